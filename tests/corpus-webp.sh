#!/bin/sh
# WebP corpus (libwebp's test data, Pillow, image-rs, Wuffs, the
# CVE-2023-4863 proofs of concept) through the library, then every rebuilt
# WebP checked by Pillow and libwebp's dwebp/webpmux (tests/verify_webp.py):
# the same pixels for a lossless input, the same size, timing and about the
# same picture for a lossy one.  A second run converts stills to PNG
# (webp_to = png) and checks those pixels the same way.
set -u
: "${IMSAFE_PYTHON:?run through make check (configure finds python3)}"
out="$IMSAFE_BUILDDIR/tests/out/webp"
rm -rf "$out" && mkdir -p "$out" || exit 99
rc=0
"$IMSAFE_BUILDDIR/tests/corpus_run" webp "$out/webp" || rc=1
# (a large RGBA PNG may trip the output gate, which encodes it again:
# allowed; the fixpoint run then sanitizes the 24 MP RGBA PNG made from
# bryce.webp, 96 MB of scanlines encoded twice, which is over the default
# max_work: the PNG run raises it)
"$IMSAFE_BUILDDIR/tests/corpus_run" --allow-gate --policy "webp_to = png
max_work = 10_000_000_000" webp "$out/png" \
    >"$out/png.log" 2>&1 ||
    { cat "$out/png.log"; rc=1; }
tail -n 2 "$out/png.log"
for p in "$out/webp/pairs.tsv" "$out/png/pairs.tsv"; do
    [ -s "$p" ] || { echo "hard error: no $p from corpus_run"; exit 99; }
done
"$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/verify_webp.py" "$out/webp/pairs.tsv" "$out/png/pairs.tsv"
v=$?
[ $v -eq 99 ] && exit 99
[ $v -ne 0 ] && rc=1
exit $rc
