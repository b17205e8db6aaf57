#!/bin/sh
# Replays inputs through every fuzz harness without libFuzzer (fuzz/replay.c):
# the third-party corpus and the generated fixtures in place, the generated
# text seeds (fuzz/gen_seeds.py), and every committed regression input in
# fuzz/regress/<target>/.  A harness aborts on any property violation (see
# fuzz/fuzz_common.h), so each harness passes only if every input ran clean.
# FUZZ_WRAPPER runs each replay under a tool (make check-valgrind sets it
# to valgrind memcheck with errors fatal).
# Prints "N passed, N failed" over harnesses; exit 0, 1 (failure) or 99.
set -u
: "${IMSAFE_CORPUS:?run through make check}" "${IMSAFE_SRCDIR:?}" "${IMSAFE_BUILDDIR:?}"
: "${IMSAFE_FIXTURES:?}" "${IMSAFE_PYTHON:?}"
for d in "$IMSAFE_CORPUS/pngsuite" "$IMSAFE_FIXTURES"; do
    [ -d "$d" ] || { echo "hard error: $d is missing" >&2; exit 99; }
done
seeds=$IMSAFE_BUILDDIR/fuzz/seeds
rm -rf "$seeds"
"$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/fuzz/gen_seeds.py" "$seeds" || exit 99

passed=0
failed=0
for t in sanitize png jpeg gif sniff zip filename policy icc tar vp8l multipart ooxml pdf frame webp; do
    prog=$IMSAFE_BUILDDIR/fuzz/replay_$t
    [ -x "$prog" ] || { echo "hard error: $prog not built" >&2; exit 99; }
    set -- "$IMSAFE_CORPUS" "$IMSAFE_FIXTURES"
    [ -d "$seeds/$t" ] && set -- "$@" "$seeds/$t"
    [ -d "$IMSAFE_SRCDIR/fuzz/regress/$t" ] && set -- "$@" "$IMSAFE_SRCDIR/fuzz/regress/$t"
    log=$IMSAFE_BUILDDIR/fuzz/replay_$t.out
    # shellcheck disable=SC2086
    if ${FUZZ_WRAPPER:-} "$prog" "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   $t: $(tail -n 1 "$log")"
    else
        failed=$((failed + 1))
        echo "FAIL $t:"
        tail -n 40 "$log"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
