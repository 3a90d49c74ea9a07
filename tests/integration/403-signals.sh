#!/usr/bin/env bash
# Signals at awkward moments: SIGTERM while a send is in flight (the
# aggregator is slow), then a storm of SIGHUP and SIGUSR1 while events
# flow and batches are built. No crash, exit status 0, and in the end
# the aggregator holds every event: podtrail-verify finds no gap.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
recv_mode "slow 4"
start_receiver
start_podtrail --batch-age-ms=100 --batch-events=20
feed 1 50
slow_seen() { [ "$(recv_requests slow)" -ge 1 ]; }
wait_for 30 slow_seen || fail "no request reached the slow aggregator"
# SIGTERM in the middle of that request
kill -TERM "$PT_PID"
rc=0
wait "$PT_PID" || rc=$?
exec 7>&-
PT_PID=
[ "$rc" = 0 ] || fail "SIGTERM during a send: exit status $rc"
note "SIGTERM during a send: exit 0, $(spool_events) event(s) left spooled"

# the rest goes out on the next start; signals rain while events flow
recv_mode ok
start_podtrail --batch-age-ms=20 --batch-events=7
# signals count from the moment podtrail catches SIGHUP (SigCgt bit 0):
# a signal in the instant after exec() kills any daemon
catches_hup() {
	local m
	m=$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$PT_PID/status")
	[ $((0x$m & 1)) = 1 ]
}
wait_for 30 catches_hup || fail "podtrail never installed its handlers"
# under valgrind SigCgt is valgrind's: also wait for a delivered event,
# which proves podtrail's loop (and its handlers) are running
feed 51 100
has_150() { grep -Eq '"serial":150[,}]' "$RECV_STORE"; }
wait_for 60 has_150 || fail "podtrail delivers nothing after a restart"
signals=0
(
	for i in $(seq 1 19); do
		gen_audit $((151 + (i - 1) * 100)) 100
	done
) >&7 &
feeder=$!
while kill -0 "$feeder" 2>/dev/null || [ "$signals" -lt 200 ]; do
	kill -HUP "$PT_PID"
	kill -USR1 "$PT_PID"
	signals=$((signals + 2))
	[ "$signals" -lt 2000 ] || break
done
wait "$feeder" || fail "feeding podtrail failed"
kill -0 "$PT_PID" || fail "podtrail died in the signal storm"
wait_for 60 recv_has 2050 || fail "only $(recv_count) of 2050 delivered"
kill -TERM "$PT_PID"
rc=0
wait "$PT_PID" || rc=$?
exec 7>&-
PT_PID=
[ "$rc" = 0 ] || fail "exit status $rc after the storm"
note "$signals SIGHUP/SIGUSR1 sent while 2000 events flowed"
verify_json
[ "$(vq 's["missing"]')" = 0 ] || fail "events missing: $(vq 's["gaps"]')"
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"]')" = 0 ] ||
	fail "verify found damage"
"$PYTHON3" - "$RECV_STORE" <<'PY' || fail "an audit event is missing"
import json, sys
serials = {json.loads(l).get("serial") for l in open(sys.argv[1])}
missing = [s for s in range(1, 2051) if s not in serials]
if missing:
    sys.exit("missing serials: %s" % missing[:10])
PY
