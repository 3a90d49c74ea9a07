#!/usr/bin/env bash
# kill -9 with the aggregator down, restart: the spooled batches and
# the batch being built (its crash copy, the spool's open segment) are
# delivered, the chain continues, and verify reports only the unused
# reserved seqs as a gap the restart explains, never a break. The old
# code lost the events of the batch being built.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
RECV_PORT=$(free_port)
recv_mode ok
# batches seal by count only, so the last 21 lines (the key event and
# 220 events make 221) stay in the batch being built; no checkpoint
# comes between to move the count
start_podtrail --batch-age-ms=600000 --batch-events=40 --checkpoint-interval=3600
feed 1 220
wait_for 30 spool_has 200 || fail "batches were not spooled"
# 221: the run's podtrail_key and the 220 events
emitted_221() { kill -USR1 "$PT_PID"; grep -q '"emitted":221' "$T/podtrail.log"; }
wait_for 30 emitted_221 || fail "podtrail did not take the last 20 events"
kill9_podtrail
ls "$T/state/spool" | grep -q '^open-.*\.ndjson$' || fail "no open segment for the batch being built"
note "killed with $(spool_events) events spooled, 21 in the batch being built"
start_receiver
start_podtrail --batch-age-ms=100 --batch-events=40
wait_for 60 recv_events_has 220 || fail "spool not delivered after restart ($(recv_events))"
grep -q "21 events of a batch being built" "$T/podtrail.log" || fail "recovery not logged"
feed 1000 50
wait_for 30 recv_events_has 270 || fail "new events not delivered ($(recv_events))"
stop_podtrail
verify_json
cat "$T/verify.json"
[ "$(vq 'len(r["streams"])')" = 1 ] || fail "restart started a new stream"
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"] + r["invalid_lines"]')" = 0 ] ||
	fail "verify found tampering after kill -9"
# seq 1 is the run's podtrail_key, the 220 events are seqs 2..221, all
# delivered; the restart's signed podtrail_key declares the seqs the
# crash left unused, an explained gap
[ "$(vq 's["explained_gaps"][0]["from"]')" = 222 ] || fail "the gap should start after the last event read ($(vq 's["explained_gaps"]'))"
[ "$(vq 's["missing"]')" = 0 ] || fail "the gap after kill -9 is not explained"
[ "$(vq 'r["ok"]')" = True ] || fail "an explained restart gap must not fail verify"
"$PODTRAIL_VERIFY" "$RECV_STORE" >"$T/report" || fail "verify failed on an explained gap"
grep -q "explained gap: seq 222\.\." "$T/report" || fail "text report lacks the gap"
note "after kill -9: $(vq 's["events"]') events, explained gap $(vq 's["explained_gaps"]')"
