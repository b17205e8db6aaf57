# tests/icap/lib.sh - start and stop the processes of the ICAP tests and
# icap/bench.sh: an origin, c-icap with srv_imsafe, Squid.  Sourced by sh.
#
# Every process is started here, in the background, on 127.0.0.1 ports the
# kernel picked, with its configuration, pid, log and cache files under $W
# (the test's own directory); icap_stop_all (run by the callers' trap) stops
# each one by the process id recorded when it was started.
#
# Needs: W, IMSAFE_PYTHON, IMSAFE_C_ICAP, IMSAFE_SQUID, IMSAFE_SRCDIR,
# IMSAFE_ICAP_MODULE.

ICAP_PIDS=""

icap_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# A free TCP port on 127.0.0.1 (bound, read and released: a small race,
# but the kernel hands out ports in order, not reusing one at once).
icap_free_port() {
    "$IMSAFE_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# icap_wait_port PORT SECONDS: until something accepts on 127.0.0.1:PORT
icap_wait_port() {
    "$IMSAFE_PYTHON" - "$1" "$2" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), time.time() + float(sys.argv[2])
while time.time() < limit:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

# icap_children PID: the pids whose parent is PID (from /proc)
icap_children() {
    # field 4 is the parent pid (the command, field 2, of the processes
    # asked about has no spaces); one cat, one awk: this runs while the
    # machine is under load
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '$4 == p { print $1 }'
}

# icap_rss_kib PID...: the sum of VmRSS of the given processes, in KiB
icap_rss_kib() {
    t=0
    for p in "$@"; do
        r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        t=$((t + ${r:-0}))
    done
    echo "$t"
}

# icap_origin DIR UPLOADS: the Python origin; sets ORIGIN_PORT
icap_origin() {
    rm -f "$W/origin.port"
    "$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/icap/origin.py" "$W/origin.port" "$1" "$2" &
    ICAP_PIDS="$ICAP_PIDS $!"
    i=0
    while [ ! -s "$W/origin.port" ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || icap_fail "the origin did not start"
        sleep 0.1
    done
    ORIGIN_PORT=$(cat "$W/origin.port")
}

# icap_cicap NAME POLICY [EXTRA-CONFIG-LINE...]: c-icap with srv_imsafe (and
# srv_echo) in $W/NAME; sets CICAP_PORT and CICAP_PID (the master)
icap_cicap() {
    name=$1
    policy=$2
    shift 2
    d=$W/$name
    mkdir -p "$d/tmp"
    CICAP_PORT=$(icap_free_port)
    moddir=$(dirname "$IMSAFE_ICAP_MODULE")
    {
        echo "PidFile $d/c-icap.pid"
        echo "CommandsSocket $d/c-icap.ctl"
        echo "Port 127.0.0.1:$CICAP_PORT"
        echo "Timeout 60"
        echo "MaxKeepAliveRequests 0"
        echo "KeepAliveTimeout 60"
        # one child with threads for every Squid connection: the memory
        # test measures one process, and c-icap never forks mid-test
        echo "StartServers 1"
        echo "MaxServers 1"
        echo "ThreadsPerChild 64"
        echo "MinSpareThreads 4"
        echo "MaxSpareThreads 64"
        echo "MaxRequestsPerChild 0"
        echo "TmpDir $d/tmp"
        echo "ServerLog $d/server.log"
        echo "LogFormat imsafe \"%tl %im %is %Ib %Ob %huo\""
        echo "AccessLog $d/access.log imsafe"
        echo "DebugLevel 1"
        echo "ServicesDir $moddir"
        echo "ModulesDir $moddir"
        echo "Service imsafe $IMSAFE_ICAP_MODULE"
        [ -z "${ICAP_ECHO_MODULE:-}" ] || echo "Service echo $ICAP_ECHO_MODULE"
        echo "srv_imsafe.PolicyFile $policy"
        # the worker helper of the build tree (not installed yet)
        echo "srv_imsafe.IsolationHelper $IMSAFE_WORKER"
        for line in "$@"; do echo "$line"; done
    } > "$d/c-icap.conf"
    # two malloc arenas instead of one per busy thread (glibc's default is
    # 8 per core): less memory, and a child's RSS that tracks its heap
    # rather than which of its 64 threads happened to serve a burst
    MALLOC_ARENA_MAX=2 "$IMSAFE_C_ICAP" -N -f "$d/c-icap.conf" > "$d/stdout.log" 2>&1 &
    CICAP_PID=$!
    ICAP_PIDS="$ICAP_PIDS $CICAP_PID"
    icap_wait_port "$CICAP_PORT" 20 || { cat "$d/stdout.log" "$d/server.log" >&2; icap_fail "c-icap did not start"; }
}

# icap_squid NAME ICAP-CONFIG-FILE: Squid in $W/NAME with the icap_* lines of
# the given file; sets SQUID_PORT and SQUID_PID
icap_squid() {
    d=$W/$1
    mkdir -p "$d"
    # Squid started as root runs as cache_effective_user (proxy): let it
    # write its logs here
    chmod 777 "$d"
    SQUID_PORT=$(icap_free_port)
    {
        echo "http_port 127.0.0.1:$SQUID_PORT"
        echo "visible_hostname localhost"
        echo "pid_filename $d/squid.pid"
        echo "cache_log $d/cache.log"
        echo "access_log stdio:$d/access.log"
        echo "cache_store_log none"
        echo "coredump_dir $d"
        echo "cache deny all"
        echo "cache_mem 8 MB"
        echo "pinger_enable off"
        echo "netdb_filename none"
        echo "shutdown_lifetime 0 seconds"
        echo "max_filedescriptors 4096"
        echo "http_access allow localhost"
        echo "http_access deny all"
        echo "icap_enable on"
        echo "icap_preview_enable on"
        echo "icap_persistent_connections on"
        cat "$2"
    } > "$d/squid.conf"
    "$IMSAFE_SQUID" -N -f "$d/squid.conf" > "$d/stdout.log" 2>&1 &
    SQUID_PID=$!
    ICAP_PIDS="$ICAP_PIDS $SQUID_PID"
    icap_wait_port "$SQUID_PORT" 30 || { cat "$d/stdout.log" "$d/cache.log" >&2; icap_fail "squid did not start"; }
}

# icap_kill PID: the process and its children, by id (c-icap's master
# stops its children on TERM; a killed master's children are stopped too)
icap_kill() {
    sig=${2:-TERM}
    kids=$(icap_children "$1")
    kill "-$sig" "$1" $kids 2>/dev/null
    return 0
}

icap_stop_all() {
    for p in $ICAP_PIDS; do
        icap_kill "$p"
    done
    i=0
    for p in $ICAP_PIDS; do
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            i=$((i + 1))
            sleep 0.1
        done
        kill -0 "$p" 2>/dev/null && icap_kill "$p" KILL
    done
    wait 2>/dev/null
    ICAP_PIDS=""
}
