#!/bin/sh
# GIF corpus through the library, then every rebuilt GIF checked frame by
# frame against its input with Pillow (tests/verify_gif.py), a decoder
# independent of giflib.  The exploits set's verdicts are checked by
# corpus-png.sh (it runs the whole set); here only its gif/ outputs are
# decoded and compared.
set -u
: "${IMSAFE_PYTHON:?run through make check (configure finds python3)}"
out="$IMSAFE_BUILDDIR/tests/out/gif"
rm -rf "$out" && mkdir -p "$out" || exit 99
rc=0
"$IMSAFE_BUILDDIR/tests/corpus_run" gif "$out/gif" || rc=1
"$IMSAFE_BUILDDIR/tests/corpus_run" exploits "$out/exploits" >/dev/null 2>&1
[ -f "$out/gif/pairs.tsv" ] || { echo "hard error: no pairs.tsv from corpus_run gif"; exit 99; }
pairs="$out/pairs.tsv"
cat "$out/gif/pairs.tsv" > "$pairs" || exit 99
if [ -f "$out/exploits/pairs.tsv" ]; then
    grep "/exploits/gif/" "$out/exploits/pairs.tsv" >> "$pairs"
fi
"$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/verify_gif.py" "$pairs"
v=$?
[ $v -eq 99 ] && exit 99
[ $v -ne 0 ] && rc=1
exit $rc
