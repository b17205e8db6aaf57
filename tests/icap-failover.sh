#!/bin/sh
# tests/icap-failover.sh - two c-icap instances with srv_imsafe in one Squid
# adaptation_service_set (REQMOD and RESPMOD, bypass=off); one is killed
# (SIGKILL, master and child) in the middle of a load run.
#
# Must hold: no response is ever unjudged (every photo that arrives is
# sanitized, the hostile PNG never arrives); after the kill the other
# instance serves everything (the last seconds of the run all succeed);
# the failed requests stay under FAILOVER_MAX_FAILED (default 16, twice the
# clients: at most the transactions in flight on the dead instance plus
# one round of connection attempts).  The count and the window in which
# they happened are printed: doc/imsafe-icap.8 quotes them.
#
# Squid settings under test (see doc/imsafe-icap.8): a service is down
# after one failure, stays down for 30 s, a connection attempt gives up
# after 1 s.  FAILOVER_TUNING= (empty) runs with Squid's defaults instead,
# for comparison.
set -u
: "${IMSAFE_SRCDIR:?}" "${IMSAFE_BUILDDIR:?}" "${IMSAFE_PYTHON:?}" "${IMSAFE_SQUID:?}"
: "${IMSAFE_C_ICAP:?}" "${IMSAFE_ICAP_MODULE:?}"

W=$IMSAFE_BUILDDIR/tests/out/icap-failover
rm -rf "$W"
mkdir -p "$W/www" "$W/uploads"
. "$IMSAFE_SRCDIR/tests/icap/lib.sh"
trap 'icap_stop_all' EXIT
trap 'exit 1' INT TERM HUP PIPE

S=$IMSAFE_SRCDIR/examples/samples
cp "$S/photo.jpg" "$S/trns-overflow.png" "$W/www/"
printf 'label = "failover"\n' > "$W/policy"
CLIENTS=8
SECS=9
KILL_AT=3

icap_origin "$W/www" "$W/uploads"
icap_cicap cicap-a "$W/policy"
A_PORT=$CICAP_PORT
A_PID=$CICAP_PID
icap_cicap cicap-b "$W/policy"
B_PORT=$CICAP_PORT
cat > "$W/icap.conf" <<EOF
icap_service a_req reqmod_precache icap://127.0.0.1:$A_PORT/srv_imsafe bypass=off
icap_service b_req reqmod_precache icap://127.0.0.1:$B_PORT/srv_imsafe bypass=off
icap_service a_resp respmod_precache icap://127.0.0.1:$A_PORT/srv_imsafe bypass=off
icap_service b_resp respmod_precache icap://127.0.0.1:$B_PORT/srv_imsafe bypass=off
adaptation_service_set imsafe_req a_req b_req
adaptation_service_set imsafe_resp a_resp b_resp
adaptation_access imsafe_req allow all
adaptation_access imsafe_resp allow all
${FAILOVER_TUNING-icap_service_failure_limit 1
icap_service_revival_delay 30
icap_connect_timeout 1 seconds
icap_io_timeout 10 seconds}
logformat icapserver %ts.%03tu %icap::ru %icap::<st
icap_log stdio:$W/squid/icap.log icapserver
EOF
icap_squid squid "$W/icap.conf"
O=http://127.0.0.1:$ORIGIN_PORT

"$IMSAFE_PYTHON" "$IMSAFE_SRCDIR/tests/icap/load.py" "http://127.0.0.1:$SQUID_PORT" \
    $SECS $CLIENTS "$W/load.txt" "$O/f/photo.jpg" "$O/f/trns-overflow.png" &
load=$!
sleep $KILL_AT
a_kids=$(icap_children "$A_PID")
kill -KILL "$A_PID" $a_kids
wait "$load"

FAILS=0
total=$(wc -l < "$W/load.txt")
# never unjudged: a photo arrives only sanitized, the hostile PNG never
unjudged=$(awk '$2 == 200 && ($3 ~ /trns/ || $4 != "sanitized")' "$W/load.txt" | wc -l)
# failed: anything but a sanitized photo (200) or a blocked PNG (403)
awk '!(($2 == 200 && $3 ~ /photo/) || ($2 == 403 && $3 ~ /trns/))' "$W/load.txt" > "$W/failed.txt"
failed=$(wc -l < "$W/failed.txt")
first=$(awk 'NR == 1 { print $1 }' "$W/failed.txt")
last=$(awk 'END { print $1 }' "$W/failed.txt")
late=$(awk -v t=$((SECS - 3)) '$1 >= t' "$W/failed.txt" | wc -l)
echo "failover: $total requests from $CLIENTS clients over ${SECS}s, instance A killed at ${KILL_AT}s;" \
    "$failed failed (${first:-none}..${last:-none} s), statuses: $(awk '{print $2}' "$W/failed.txt" | sort | uniq -c | tr '\n' ' ')"
[ "$unjudged" -eq 0 ] && echo "ok: nothing unjudged reached a client" ||
    { echo "FAIL: $unjudged responses unjudged"; FAILS=$((FAILS + 1)); }
[ "$failed" -le "${FAILOVER_MAX_FAILED:-16}" ] && echo "ok: $failed failed requests" ||
    { echo "FAIL: $failed failed requests, over ${FAILOVER_MAX_FAILED:-16}"; FAILS=$((FAILS + 1)); }
[ "$late" -eq 0 ] && echo "ok: the survivor served the last 3 s alone" ||
    { echo "FAIL: $late failures in the last 3 s"; FAILS=$((FAILS + 1)); }
[ "$(awk '$2 == 200' "$W/load.txt" | wc -l)" -gt 0 ] || { echo "FAIL: nothing served"; FAILS=$((FAILS + 1)); }
# which instance answered (Squid's ICAP log): both must have served
served_a=$(grep -c "//127.0.0.1:$A_PORT/" "$W/squid/icap.log")
served_b=$(grep -c "//127.0.0.1:$B_PORT/" "$W/squid/icap.log")
echo "ICAP transactions: instance A $served_a, instance B $served_b"
[ "$served_a" -gt 0 ] && [ "$served_b" -gt 0 ] || { echo "FAIL: one instance served nothing"; FAILS=$((FAILS + 1)); }
[ "$FAILS" = 0 ]
