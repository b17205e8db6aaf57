# lib.sh - the harness the imsafe-check tests share (cli.sh, cli-batch.sh,
# cli-signals.sh source it after setting $check, $PY and $out): counters,
# pass/fail/hard, running the program, and the checks every test needs.
# Each test ends with "N passed, N failed", exit 1 when anything failed,
# 99 when it cannot run at all.

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
hard() { echo "hard error: $1" >&2; exit 99; }
ok_if() { # label: pass when the last command succeeded
    if [ $? -eq 0 ]; then pass "$1"; else fail "$1"; fi
}

# run ARGS...: imsafe-check with stdout/stderr in $out/stdout, $out/stderr
# and the exit status in $rc
run() {
    "$check" "$@" >"$out/stdout" 2>"$out/stderr"
    rc=$?
}
# expect_rc LABEL WANT ARGS...
expect_rc() {
    label=$1 want=$2
    shift 2
    run "$@"
    if [ "$rc" -eq "$want" ]; then
        pass "$label (exit $want)"
    else
        fail "$label: exit $rc, want $want"
        sed 's/^/     /' "$out/stderr" | head -n 3
    fi
}

[ -x "$check" ] || hard "$check not built"
[ -x "$PY" ] || hard "$PY missing"
$PY -c 'import PIL' 2>/dev/null || hard "Pillow (python3-pil) missing"
