#!/bin/sh
# The output gate against the readers attackers target: every sanitized
# output of the corpora (default policy, JPEG pixel mode, GIF to PNG) and of
# the gate fixtures goes through Python's zipfile, Info-ZIP unzip, php and a
# search for PDF/HTML markers (tests/gate_oracles.py).  corpus_run itself
# asserts that no corpus output tripped the gate (no note.reencoded).
set -u
out="$IMSAFE_BUILDDIR/tests/out/gate"
rm -rf "$out" && mkdir -p "$out/fixtures" || exit 99
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
for set in pngsuite png-extra jpeg gif exploits; do
    mkdir -p "$out/$set" || exit 99
    step "$IMSAFE_BUILDDIR/tests/corpus_run" "$set" "$out/$set" >/dev/null
done
mkdir -p "$out/jpeg-pixels" "$out/gif-png" || exit 99
step "$IMSAFE_BUILDDIR/tests/corpus_run" --lossy --policy 'jpeg_mode = pixels
jpeg_arithmetic = allow' jpeg "$out/jpeg-pixels" >/dev/null
step "$IMSAFE_BUILDDIR/tests/corpus_run" --policy 'gif_to_png = 1' gif "$out/gif-png" >/dev/null
# imsafe-check exits 1 because one fixture is rejected (polyglot.output)
"$IMSAFE_BUILDDIR/tools/imsafe-check" --json -o "$out/fixtures" "$IMSAFE_FIXTURES"/gate/* \
    > "$out/fixtures.json"
[ $? -le 1 ] || { echo "hard error: imsafe-check failed on the gate fixtures"; exit 99; }
step "$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/gate_oracles.py" "$out/fixtures.json" \
    "$out/fixtures" "$out"/*/pairs.tsv
exit $rc
