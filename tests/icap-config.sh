#!/bin/sh
# tests/icap-config.sh - srv_imsafe's configuration errors stop c-icap at
# start-up, with a message naming them: a policy file with an error (its
# file:line), a missing policy file, Isolation on with a libimsafe that has
# no isolation, a bad Mode; and the good configuration starts.
set -u
: "${IMSAFE_SRCDIR:?}" "${IMSAFE_BUILDDIR:?}" "${IMSAFE_PYTHON:?}" "${IMSAFE_C_ICAP:?}"
: "${IMSAFE_ICAP_MODULE:?}"

W=$IMSAFE_BUILDDIR/tests/out/icap-config
rm -rf "$W"
mkdir -p "$W"
. "$IMSAFE_SRCDIR/tests/icap/lib.sh"
trap 'icap_stop_all' EXIT
trap 'exit 1' INT TERM HUP PIPE

printf 'label = "good"\n' > "$W/good"
printf 'label = "bad"\nmax_width_px = \n' > "$W/bad"
FAILS=0
n=0

# expect RESULT MESSAGE CONFIG-LINE...: RESULT "stops" (c-icap exits within
# 10 s and its output has MESSAGE) or "runs" (it listens)
expect() {
    want=$1
    msg=$2
    shift 2
    n=$((n + 1))
    d=$W/c$n
    mkdir -p "$d"
    port=$(icap_free_port)
    {
        echo "Port 127.0.0.1:$port"
        echo "PidFile $d/c-icap.pid"
        echo "CommandsSocket $d/c-icap.ctl"
        echo "ServerLog $d/server.log"
        echo "TmpDir $d"
        echo "StartServers 1"
        echo "MaxServers 1"
        echo "Service srv_imsafe $IMSAFE_ICAP_MODULE"
        # the worker helper of the build tree (not installed yet)
        echo "srv_imsafe.IsolationHelper $IMSAFE_WORKER"
        for line in "$@"; do echo "$line"; done
    } > "$d/c-icap.conf"
    # -D -d 1: errors found while the configuration is read go to stdout
    # (the server log is not open yet)
    "$IMSAFE_C_ICAP" -N -D -d 1 -f "$d/c-icap.conf" > "$d/out.log" 2>&1 &
    pid=$!
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        [ "$want" = runs ] && icap_wait_port "$port" 0.1 && break
        i=$((i + 1))
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        got=runs
        icap_kill "$pid"
        wait "$pid" 2>/dev/null
    else
        got=stops
    fi
    if [ "$got" = "$want" ] && { [ -z "$msg" ] || cat "$d/out.log" "$d/server.log" 2>/dev/null | grep -q "$msg"; }; then
        echo "ok: $* -> $want"
    else
        echo "FAIL: $* -> $got, want $want${msg:+ with \"$msg\"}"
        cat "$d/out.log" >&2
        FAILS=$((FAILS + 1))
    fi
}

expect runs "" "srv_imsafe.PolicyFile $W/good"
expect stops "bad:2: max_width_px" "srv_imsafe.PolicyFile $W/bad"
expect stops "cannot open $W/missing" "srv_imsafe.PolicyFile $W/missing"
expect stops "reqmod, respmod or both" "srv_imsafe.Mode sideways"
if grep -q '^#define IMSAFE_HAVE_ISOLATION 1' "$IMSAFE_SRCDIR/include/imsafe.h"; then
    expect runs "" "srv_imsafe.PolicyFile $W/good" "srv_imsafe.Isolation on"
else
    expect stops "no isolation" "srv_imsafe.Isolation on"
fi
expect runs "" "srv_imsafe.PolicyFile $W/good" "srv_imsafe.Isolation off"
[ "$FAILS" = 0 ]
