#!/bin/sh
# make check wrapper for tests/diff_archives.py (the differential test of
# libimsafe's archive walk against real readers).
: "${IMSAFE_SRCDIR:?run through make check}" "${IMSAFE_BUILDDIR:?}"
exec "$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/diff_archives.py" \
    --lister "$IMSAFE_BUILDDIR/tests/zip_list" --count "${DIFF_ARCHIVES_COUNT:-5000}"
