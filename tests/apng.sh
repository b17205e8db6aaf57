#!/bin/sh
# Animated PNGs kept animated: the benign APNG fixtures (tests/gen/gen_apng.py)
# through imsafe-check under the default policy (apng = keep), then every
# output compared frame by frame with its input by Pillow
# (tests/verify_apng.py: RGBA of each composited frame, durations, loop,
# dispose and blend), a decoder independent of libpng.  The corpus's APNGs
# get the same check in corpus-png.sh.
set -u
: "${IMSAFE_PYTHON:?run through make check (configure finds python3)}"
out="$IMSAFE_BUILDDIR/tests/out/apng"
rm -rf "$out" && mkdir -p "$out" || exit 99
pairs="$out/pairs.tsv"
: > "$pairs" || exit 99
n=0
for f in "$IMSAFE_FIXTURES"/apng/benign_*.png; do
    [ -f "$f" ] || { echo "hard error: no APNG fixtures in $IMSAFE_FIXTURES/apng"; exit 99; }
    o="$out/$(basename "$f")"
    if ! "$IMSAFE_BUILDDIR/tools/imsafe-check" -q -o - "$f" > "$o"; then
        echo "FAIL $f: rejected"
        exit 1
    fi
    printf '%s\t%s\n' "$f" "$o" >> "$pairs"
    n=$((n + 1))
done
[ "$n" -ge 6 ] || { echo "hard error: only $n benign APNG fixtures"; exit 99; }
"$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/verify_apng.py" "$pairs"
