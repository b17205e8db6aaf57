#!/bin/sh
# cli-signals.sh - imsafe-check(1) and SIGINT, SIGTERM, SIGHUP, SIGPIPE.
#
# 1. tests/cli/signals.py: 20 runs of a 300-input batch (-r, --json, -o DIR,
#    -j 1..8) signalled at moments drawn from a fixed seed, then the
#    invariants: death by the signal, whole JSON lines in input order, no
#    temporary file, no empty directory, output files <-> lines.
# 2. The shell's view: a batch that ends on a FIFO nobody writes (so it can
#    only end by a signal) reports 143 for SIGTERM and 129 for SIGHUP in $?;
#    a SIGINT ignored by the caller (a background job of a script) stays
#    ignored, so the batch then ends by SIGTERM.
#
# Environment (set by `make check`): IMSAFE_BUILDDIR, IMSAFE_SRCDIR.
# Ends with "N passed, N failed"; exit 1 when anything failed, 99 when the
# test cannot run at all.

set -u

PY=$IMSAFE_PYTHON
builddir=${IMSAFE_BUILDDIR:-.}
srcdir=${IMSAFE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
check=$builddir/tools/imsafe-check
out=$builddir/tests/out/cli-signals

. "${IMSAFE_SRCDIR:?run through make check}/tests/cli/lib.sh"

# ------------------------------------------------------ 1. the seeded runs

$PY "$srcdir/tests/cli/signals.py" "$check" "$out" 20 11 >"$out.log" 2>&1
rc=$?
sed 's/^/     /' "$out.log"
[ "$rc" -eq 99 ] && hard "signals.py could not run"
if [ "$rc" -eq 0 ]; then
    pass "20 seeded signals and a closed pipe: every invariant holds"
else
    fail "seeded signals: see the runs above"
fi

# ------------------------------------------------------ 2. the shell's view

sh_dir=$out/sh
mkdir -p "$sh_dir/o" || hard mkdir
fifo=$sh_dir/never.fifo
mkfifo "$fifo" || hard mkfifo
inputs=$(find "$out/in" -type f | sort | head -n 20)
[ -n "$inputs" ] || hard "signals.py made no inputs"

# start_batch OUTDIR: the batch in the background, ending on the FIFO; waits
# until the lines of the 20 files are out (it then waits on the FIFO for
# ever), giving up after 60 s
start_batch() {
    rm -rf "$1" && mkdir -p "$1" && : >"$sh_dir/stdout"
    # shellcheck disable=SC2086
    "$check" --json -j 2 -o "$1" $inputs "$fifo" >>"$sh_dir/stdout" 2>"$sh_dir/stderr" &
    pid=$!
    n=0
    while [ "$(wc -l <"$sh_dir/stdout")" -lt 20 ] && [ "$n" -lt 600 ]; do
        sleep 0.1
        n=$((n + 1))
    done
}
# lines_match OUTDIR: every file in OUTDIR is named by a line and back
lines_match() {
    $PY - "$sh_dir/stdout" "$1" <<'EOF'
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
named = {r["output"] for r in recs if r["output"]}
present = {os.path.join(d, f) for d, _, fs in os.walk(sys.argv[2]) for f in fs}
assert named == present, (sorted(named ^ present))[:3]
assert len(recs) == 20, len(recs)
EOF
}

for s in TERM:143 HUP:129; do
    sig=${s%:*} want=${s#*:}
    start_batch "$sh_dir/o"
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    if [ "$rc" -eq "$want" ]; then pass "SIG$sig: \$? is $want"; else fail "SIG$sig: \$? is $rc, want $want"; fi
    if lines_match "$sh_dir/o" && [ -z "$(find "$sh_dir/o" -name '.imsafe-*')" ]; then
        pass "SIG$sig: 20 lines, exactly the files they name, no temporary file"
    else
        fail "SIG$sig: lines and files differ, or a temporary file is left"
    fi
done

# A non-interactive shell starts background jobs with SIGINT ignored; what
# the caller ignores stays ignored (as nohup relies on for SIGHUP).
start_batch "$sh_dir/o"
kill -INT "$pid"
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 143 ]; then
    pass "SIGINT ignored by the caller stays ignored (ended by SIGTERM: 143)"
else
    fail "SIGINT ignored by the caller: \$? is $rc, want 143"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
