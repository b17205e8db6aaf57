#!/bin/sh
# icap/bench.sh SRCDIR BUILDDIR - what `make bench-icap` runs (never in CI).
#
# Requests per second and latency (p50, p99) through Squid, with nginx as
# the origin (fast enough not to be the bottleneck) and wrk as the client
# (an absolute-URL request path, so wrk talks to Squid as a proxy):
#
#   squid          Squid alone, no ICAP
#   echo           Squid + c-icap's srv_echo (the floor of any ICAP service)
#   imsafe         Squid + srv_imsafe, isolation off
#   imsafe-iso     Squid + srv_imsafe, isolation on (when libimsafe has it)
#
# for the 12 MP photo and the 200 avatars of ../shared/bench's set
# (make-set.sh; BENCH_SET=DIR names a ready one), plus a passed type (a
# 100 KiB PDF).  Also imsafe-check's own time for the photo and for the
# avatars, the part of the cost that is the sanitize itself.
#
# Environment: BENCH_CONNS (16), BENCH_SECS (10), BENCH_SET.
# Needs: nginx, wrk, c-icap, squid (Debian: nginx-light or nginx, wrk,
# c-icap, squid).  Every process is started here on loopback ports and
# stopped at exit.
set -u
SRCDIR=$(cd "${1:?usage: bench.sh SRCDIR BUILDDIR}" && pwd)
BUILDDIR=$(cd "${2:?usage: bench.sh SRCDIR BUILDDIR}" && pwd)
CONNS=${BENCH_CONNS:-16}
SECS=${BENCH_SECS:-10}
SET=${BENCH_SET:-$BUILDDIR/bench/set}
W=$BUILDDIR/bench/icap
IMSAFE_SRCDIR=$SRCDIR
IMSAFE_PYTHON=${IMSAFE_PYTHON:-/usr/bin/python3}
IMSAFE_C_ICAP=${IMSAFE_C_ICAP:-$(command -v c-icap)}
IMSAFE_SQUID=${IMSAFE_SQUID:-$(command -v squid || echo /usr/sbin/squid)}
IMSAFE_ICAP_MODULE=$BUILDDIR/icap/.libs/srv_imsafe.so
IMSAFE_WORKER=$BUILDDIR/tools/imsafe-worker
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WRK=$(command -v wrk)
for p in "$IMSAFE_C_ICAP" "$IMSAFE_SQUID" "$NGINX" "$WRK" "$IMSAFE_ICAP_MODULE"; do
    [ -x "$p" ] || [ -f "$p" ] || { echo "bench-icap: missing $p" >&2; exit 2; }
done
if [ ! -f "$SET/MANIFEST.tsv" ]; then
    bash "$SRCDIR/../shared/bench/make-set.sh" "$SET" || exit 2
fi
rm -rf "$W"
mkdir -p "$W/www/avatars"
. "$SRCDIR/tests/icap/lib.sh"
trap 'icap_stop_all' EXIT
trap 'exit 1' INT TERM HUP PIPE

cp "$SET/photo-12mp.jpg" "$W/www/"
cp "$SET"/avatars/*.jpg "$W/www/avatars/"
"$IMSAFE_PYTHON" "$SRCDIR/tests/gen/gen_icap.py" "$W/gen" && cp "$W/gen/icap/large.pdf" "$W/www/doc.pdf"

# nginx as the origin
NGINX_PORT=$(icap_free_port)
mkdir -p "$W/nginx"
chmod 777 "$W/nginx"
cat > "$W/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    types { image/jpeg jpg; application/pdf pdf; }
    client_body_temp_path $W/nginx/body;
    proxy_temp_path $W/nginx/proxy;
    fastcgi_temp_path $W/nginx/fastcgi;
    uwsgi_temp_path $W/nginx/uwsgi;
    scgi_temp_path $W/nginx/scgi;
    server { listen 127.0.0.1:$NGINX_PORT; root $W/www; }
}
EOF
"$NGINX" -c "$W/nginx/nginx.conf" -p "$W/nginx" &
ICAP_PIDS="$ICAP_PIDS $!"
icap_wait_port "$NGINX_PORT" 10 || icap_fail "nginx did not start"
O=http://127.0.0.1:$NGINX_PORT

# wrk script: absolute-URL paths (Squid as a forward proxy), cycling over
# a list of paths when there are several
cat > "$W/paths.lua" <<'EOF'
local paths, i = {}, 0
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
request = function()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
EOF
echo "$O/photo-12mp.jpg" > "$W/photo.paths"
echo "$O/doc.pdf" > "$W/pdf.paths"
for f in "$W"/www/avatars/*.jpg; do echo "$O/avatars/$(basename "$f")"; done > "$W/avatars.paths"

# run_wrk LABEL PATHS: one line "label rps p50 p99 errors"
run_wrk() {
    f=$(echo "$1" | tr / -)
    BENCH_PATHS=$2 "$WRK" -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$W/paths.lua" \
        "http://127.0.0.1:$SQUID_PORT/" > "$W/wrk.$f.txt" 2>&1
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$W/wrk.$f.txt")
    p50=$(awk '$1 == "50%" { print $2 }' "$W/wrk.$f.txt")
    p99=$(awk '$1 == "99%" { print $2 }' "$W/wrk.$f.txt")
    errs=$(awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }' "$W/wrk.$f.txt")
    printf '%-26s %9s rps  p50 %9s  p99 %9s  %s\n' "$1" "$rps" "$p50" "$p99" "${errs:-no errors}"
}

# squid_with NAME SERVICE: Squid with RESPMOD to SERVICE (empty: no ICAP)
squid_with() {
    if [ -n "$2" ]; then
        printf 'icap_service svc respmod_precache %s bypass=off\nadaptation_access svc allow all\n' "$2"
    else
        printf 'icap_enable off\n'
    fi > "$W/$1.icap.conf"
    icap_squid "squid-$1" "$W/$1.icap.conf"
}

printf 'label = "bench"\n' > "$W/policy"
ICAP_ECHO_MODULE=$("${C_ICAP_CONFIG:-c-icap-config}" --modulesdir | sed 's,/*$,,')/srv_echo.so
export ICAP_ECHO_MODULE
# srv_echo in its default mode echoes every body back (ICAP 200).  Two
# c-icap instances: srv_imsafe with isolation off, and with isolation on
# (the service's default when libimsafe has it).
icap_cicap cicap "$W/policy" "ThreadsPerChild 32" "srv_imsafe.MaxBodyBytes 64M" \
    "srv_imsafe.Isolation off"
CP=$CICAP_PORT
CP_ISO=
if [ -x "$IMSAFE_WORKER" ]; then
    icap_cicap cicap-iso "$W/policy" "ThreadsPerChild 32" "srv_imsafe.MaxBodyBytes 64M" \
        "srv_imsafe.Isolation on"
    CP_ISO=$CICAP_PORT
fi

echo "== bench-icap: wrk -c$CONNS -d${SECS}s through Squid, nginx origin; $(date -u +%FT%TZ)"
for setup in squid echo imsafe ${CP_ISO:+imsafe-iso}; do
    case $setup in
    squid) squid_with squid "" ;;
    echo) squid_with echo "icap://127.0.0.1:$CP/echo" ;;
    imsafe) squid_with imsafe "icap://127.0.0.1:$CP/srv_imsafe" ;;
    imsafe-iso) squid_with imsafe-iso "icap://127.0.0.1:$CP_ISO/srv_imsafe" ;;
    esac
    for load in photo avatars pdf; do
        run_wrk "$setup/$load" "$W/$load.paths"
    done
    icap_kill "$SQUID_PID"
    wait "$SQUID_PID" 2>/dev/null
done

# the sanitize alone: imsafe-check on the same files, one process each
CHECK=$BUILDDIR/tools/imsafe-check
t0=$(date +%s.%N)
"$CHECK" "$W/www/photo-12mp.jpg" >/dev/null 2>&1
t1=$(date +%s.%N)
"$CHECK" "$W"/www/avatars/*.jpg >/dev/null 2>&1
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
    printf "imsafe-check alone: photo %.0f ms; 200 avatars %.0f ms in one process (%.1f ms each)\n",
        (b - a) * 1000, (c - b) * 1000, (c - b) * 1000 / 200 }'
