#!/usr/bin/env bash
# Aggregator answers: 400 -> dead letter, counted, not retried; 503,
# 429 + Retry-After, closed connections and slow answers -> retried
# until delivered. Duplicates from a timed-out request are harmless.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
start_receiver
recv_mode 400
start_podtrail --batch-age-ms=100 --batch-events=1000 --timeout-ms=1500
feed 1 20
wait_for 30 dead_events_has 20 || fail "refused batches not dead-lettered"
wait_for 10 log_has "dead-letter" || fail "dead letter not logged"
[ "$(recv_count)" = 0 ] || fail "stored despite 400"
n400=$(grep -c '^400' "$RECV_LOG")
for mode in 503 "429 1" close "slow 3"; do
	before=$(recv_count)
	recv_mode "$mode"
	: >"$RECV_LOG"
	feed $((100 + before)) 10
	wait_for 30 test -s "$RECV_LOG" || fail "$mode: no request"
	recv_mode ok
	wait_for 60 recv_has $((before + 10)) || fail "$mode: not delivered"
	note "$mode: delivered after $(wc -l <"$RECV_LOG") requests"
done
wait_for 30 spool_empty || fail "spool not drained"
stop_podtrail
[ "$n400" = "$(dead_files)" ] || fail "a 400 batch was retried ($n400 requests, $(dead_files) dead batches)"
[ "$(spool_files)" = 0 ] || fail "spool not empty"
# the dead-lettered events are a gap at the aggregator, nothing worse
verify_json
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"]')" = 0 ] ||
	fail "verify found tampering"
# (the first batch also holds the run's podtrail_key, and maybe a checkpoint)
[ "$(vq 's["gaps"]')" = "[[1, $(dead_events)]]" ] && [ "$(dead_events)" -ge 20 ] ||
	fail "expected the $(dead_events) dead-lettered events as the gap: $(vq 's["gaps"]')"
# the dead letters (gzip'd, as spooled) complete the chain
"$PODTRAIL_VERIFY" "$RECV_STORE" "$T"/state/dead/*.seg ||
	fail "store + dead letters do not verify"
