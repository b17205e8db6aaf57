#!/bin/sh
# PNG corpora (PngSuite, png-extra, and the whole exploits set, every format)
# through the library, then every rebuilt PNG checked pixel for pixel against
# its input with libspng, an independent decoder, and every rebuilt APNG
# frame by frame with Pillow.
set -u
: "${IMSAFE_PYTHON:?run through make check (configure finds python3)}"
out="$IMSAFE_BUILDDIR/tests/out/png"
rm -rf "$out" && mkdir -p "$out" || exit 99
rc=0
for set in pngsuite png-extra exploits; do
    "$IMSAFE_BUILDDIR/tests/corpus_run" "$set" "$out/$set" || rc=1
done
if [ ! -x "$IMSAFE_BUILDDIR/tests/verify_png" ]; then
    echo "hard error: tests/verify_png was not built (libspng-dev missing)"
    exit 99
fi
"$IMSAFE_BUILDDIR/tests/verify_png" "$out"/*/pairs.tsv || rc=1
# every animated PNG accepted must come out animated, frame for frame
# identical as Pillow composites it (tests/verify_apng.py)
"$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/verify_apng.py" "$out"/*/pairs.tsv
v=$?
[ $v -eq 99 ] && exit 99
[ $v -ne 0 ] && rc=1
exit $rc
