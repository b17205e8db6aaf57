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

# replay_one T: the harness's replay, its output in replay_T.out and its
# exit status in replay_T.rc
replay_one() {
    t=$1
    prog=$IMSAFE_BUILDDIR/fuzz/replay_$t
    set -- "$IMSAFE_CORPUS" "$IMSAFE_FIXTURES"
    [ -d "$seeds/$t" ] && set -- "$@" "$seeds/$t"
    [ -d "$IMSAFE_SRCDIR/fuzz/regress/$t" ] && set -- "$@" "$IMSAFE_SRCDIR/fuzz/regress/$t"
    ${FUZZ_WRAPPER:-} "$prog" "$@" >"$IMSAFE_BUILDDIR/fuzz/replay_$t.out" 2>&1
    echo $? >"$IMSAFE_BUILDDIR/fuzz/replay_$t.rc"
}

targets="sanitize png jpeg gif sniff zip filename policy icc tar vp8l multipart ooxml pdf frame webp"
for t in $targets; do
    [ -x "$IMSAFE_BUILDDIR/fuzz/replay_$t" ] || {
        echo "hard error: $IMSAFE_BUILDDIR/fuzz/replay_$t not built" >&2
        exit 99
    }
    rm -f "$IMSAFE_BUILDDIR/fuzz/replay_$t.rc"
done
# two harnesses at a time, the two slowest first (under valgrind they take
# minutes each; CI has two cores); the report below keeps the fixed order
. "$IMSAFE_SRCDIR/tests/two-at-a-time.sh"
two_at_a_time replay_one sanitize webp png jpeg gif sniff zip filename policy icc tar vp8l \
    multipart ooxml pdf frame

passed=0
failed=0
for t in $targets; do
    log=$IMSAFE_BUILDDIR/fuzz/replay_$t.out
    if [ "$(cat "$IMSAFE_BUILDDIR/fuzz/replay_$t.rc" 2>/dev/null)" = 0 ]; then
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
