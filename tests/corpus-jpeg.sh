#!/bin/sh
# The JPEG corpus through the library three times, lossless (default),
# lossless written sequential (jpeg_progressive = baseline) and pixel mode,
# then every rebuilt JPEG checked against its input by an independent
# decoder (Pillow, or djpeg where Pillow cannot decode the input): lossless
# outputs to identical pixels, pixel-mode outputs to the same size and mode.
# Exit 0 when all pass, 1 on any failure, 99 on a hard error.
set -u
: "${IMSAFE_PYTHON:?run through make check (configure finds python3)}"
out="$IMSAFE_BUILDDIR/tests/out/jpeg"
rm -rf "$out" && mkdir -p "$out" || exit 99
rc=0
step() {
    "$@"
    s=$?
    if [ $s -eq 1 ]; then
        rc=1
    elif [ $s -ne 0 ]; then
        echo "hard error: $* exited $s"
        exit 99
    fi
}
step "$IMSAFE_BUILDDIR/tests/corpus_run" jpeg "$out/lossless"
step "$IMSAFE_BUILDDIR/tests/corpus_run" --policy 'jpeg_progressive = baseline
jpeg_arithmetic = allow' jpeg "$out/sequential"
step "$IMSAFE_BUILDDIR/tests/corpus_run" --lossy --policy 'jpeg_mode = pixels
jpeg_arithmetic = allow' jpeg "$out/pixels"
step "$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/verify_jpeg.py" lossless "$out/lossless/pairs.tsv"
step "$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/verify_jpeg.py" sequential "$out/sequential/pairs.tsv"
step "$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/verify_jpeg.py" pixels "$out/pixels/pairs.tsv"
exit $rc
