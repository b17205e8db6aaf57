#!/bin/sh
# Every ICC profile of the corpora and of the ICC fixtures through the
# rebuild (libimsafe/icc.c):
#   1. the profiles are extracted (tests/verify_icc.py extract) and each is
#      classified canonical / rebuilt / dropped by tests/test_icc --classify,
#      which checks every output (ICC v2.1, parametric curves only, only the
#      tags a matrix/TRC profile renders with) and its fixpoint; the share of
#      each kind is printed;
#   2. every image carrying a profile is sanitized (test_icc --sanitize);
#   3. verify_icc.py payload: no output is a ZIP for zipfile or unzip -l,
#      none holds %PDF-, <script, <html or <svg, and the hostile fixtures'
#      inputs really carry their payload;
#   4. verify_icc.py fidelity: input and output rendered to sRGB (ImageCms,
#      and a matrix/TRC transform of the test's own) agree within 1 level.
# Exit 0 when all pass, 1 on any failure, 99 on a hard error.
set -u
: "${IMSAFE_CORPUS:?run through make check}" "${IMSAFE_SRCDIR:?}" "${IMSAFE_BUILDDIR:?}"
: "${IMSAFE_FIXTURES:?}"
[ -d "$IMSAFE_FIXTURES/icc" ] || { echo "hard error: no ICC fixtures"; exit 99; }
out="$IMSAFE_BUILDDIR/tests/out/icc"
rm -rf "$out" && mkdir -p "$out/profiles" "$out/images" || exit 99
verify="$IMSAFE_PYTHON $IMSAFE_SRCDIR/tests/verify_icc.py"
rc=0
$verify extract "$out/profiles" "$IMSAFE_CORPUS" >"$out/corpus-images.txt" || exit 99
ls "$IMSAFE_FIXTURES"/icc/* >"$out/fixture-images.txt" || exit 99
n=$(wc -l <"$out/corpus-images.txt")
[ "$n" -gt 0 ] || { echo "hard error: no profile found in the corpus"; exit 99; }
echo "== corpus profiles ($n images carry one)"
# shellcheck disable=SC2046
"$IMSAFE_BUILDDIR/tests/test_icc" --classify "$out"/profiles/*.icc >"$out/classify.txt" 2>&1 ||
    rc=1
grep -v '^canonical\|^rebuilt\|^dropped' "$out/classify.txt"
echo "== sanitize the images that carry a profile"
# shellcheck disable=SC2046
"$IMSAFE_BUILDDIR/tests/test_icc" --sanitize "$out/images" $(cat "$out/corpus-images.txt" \
    "$out/fixture-images.txt") >"$out/pairs.tsv" || exit 99
$verify payload "$out/pairs.tsv" || rc=1
$verify fidelity "$out/pairs.tsv" || rc=1
exit $rc
