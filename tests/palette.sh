#!/bin/sh
# Canonical palettes against the readers an attacker targets: the palette
# fixtures (tests/gen/gen_palette.py) through imsafe-check, then Python's
# zipfile, Info-ZIP unzip (/usr/bin/unzip) and Pillow on every output
# (tests/verify_palette.py says what is asserted).
set -u
out="$IMSAFE_BUILDDIR/tests/out/palette"
rm -rf "$out" && mkdir -p "$out" || exit 99
[ -x "$IMSAFE_BUILDDIR/tools/imsafe-check" ] || { echo "hard error: imsafe-check not built"; exit 99; }
[ -d "$IMSAFE_FIXTURES/palette" ] || { echo "hard error: no palette fixtures in $IMSAFE_FIXTURES"; exit 99; }
exec "$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/verify_palette.py" \
    "$IMSAFE_BUILDDIR/tools/imsafe-check" "$IMSAFE_FIXTURES" "$out"
