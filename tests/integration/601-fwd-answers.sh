#!/usr/bin/env bash
# Answers an aggregator gives that must not cost data:
# - 401, 403, 404 (a wrong token or URL): the batch is held in the spool
#   (not dead-lettered), an error names the fix, fwd_config_errors
#   counts it, and once the operator fixes it everything is delivered;
# - 413: the batch is resent in halves until it fits, nothing is set
#   aside; an event too large on its own is set aside alone;
# - 500 with a body: the body's text is in the log, the batch retried;
# - a connection closed in the middle of the answer: retried;
# - podtrail --requeue-dead puts dead letters back into the spool, and
#   the next start delivers them: the chain at the aggregator is whole.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
start_receiver
prom=$T/podtrail.prom
metric() { awk -v k="podtrail_$1" '$1 == k { print $2 }' "$prom" 2>/dev/null; }
run() { start_podtrail --batch-age-ms=100 --timeout-ms=2000 --metrics-file="$prom" --metrics-interval=1 "$@"; }
n=0
held=0
for code in 401 403 404; do
	recv_mode "$code"
	run
	feed $((n + 1)) 10
	wait_for 30 log_has "HTTP $code" || fail "$code: not logged"
	log_has "check the output URL and the credentials" || fail "$code: the log does not say what to fix"
	wait_for 30 spool_has 10 || fail "$code: the batch is not kept in the spool"
	counted() { [ "$(metric fwd_config_errors)" -ge 1 ] && [ "$(metric fwd_held)" = 1 ]; }
	wait_for 30 counted || fail "$code: fwd_config_errors/fwd_held not raised: $(grep fwd_ "$prom" || true)"
	[ "$(dead_files)" = 0 ] || fail "$code: dead-lettered instead of held"
	# retried, slowly, while it lasts
	wait_for 30 sh -c "[ \$(grep -c '^$code ' '$RECV_LOG') -ge 2 ]" || fail "$code: not retried"
	recv_mode ok
	n=$((n + 10))
	wait_for 60 recv_events_has $n || fail "$code: not delivered once fixed ($(recv_events) of $n)"
	wait_for 10 sh -c "[ \"\$(awk '\$1 == \"podtrail_fwd_held\" { print \$2 }' '$prom')\" = 0 ]" ||
		fail "$code: fwd_held still set after delivery"
	stop_podtrail
	held=$((held + 1))
done
note "401/403/404: held, then delivered"

# 413 over 4 KiB (decoded): a 20-event batch (~17 KiB) goes in parts
: >"$RECV_LOG"
recv_mode 413 4096
run --batch-events=1000
feed $((n + 1)) 20
n=$((n + 20))
wait_for 60 recv_events_has $n || fail "413: $(recv_events) of $n delivered"
[ "$(dead_files)" = 0 ] || fail "413: dead-lettered: $(ls "$T/state/dead")"
log_has "sending them in parts" || fail "413: the split is not logged"
note "413: $(grep -c '^413 ' "$RECV_LOG") answers 413, $(grep -c '^200 ' "$RECV_LOG") parts delivered"
stop_podtrail

# every event too large: each is set aside alone, the rest goes on
# (the run's podtrail_key is too large as well: 4 dead letters; no
# checkpoint comes before the stop's)
recv_mode 413 100
run --checkpoint-interval=3600
feed $((n + 1)) 3
wait_for 60 dead_events_has 4 || fail "413 alone: $(dead_events) of 4 events set aside"
[ "$(dead_files)" = 4 ] || fail "413 alone: expected 4 dead letters of one event, got $(ls "$T/state/dead")"
wait_for 30 spool_empty || fail "413 alone: the spool is not empty"
stop_podtrail
dead_first=$((n + 1))
n=$((n + 3))

# 500 with a body: the aggregator's reason reaches the log
recv_mode 500 mapper_parsing_exception: field [records] is too deep
run
feed $((n + 1)) 5
wait_for 30 log_has "HTTP 500: mapper_parsing_exception: field \[records\] is too deep" ||
	fail "500: the body is not in the log: $(grep 'HTTP 500' "$T/podtrail.log" | tail -1)"
recv_mode ok
n=$((n + 5))
wait_for 60 recv_events_has $((n - 3)) || fail "500: not delivered"
stop_podtrail

# the answer cut in the middle: retried (a resend is a harmless duplicate)
: >"$RECV_LOG"
recv_mode midclose
run
feed $((n + 1)) 5
wait_for 30 grep -q '^midclose ' "$RECV_LOG" || fail "midclose: no request"
wait_for 30 log_has "will retry" || fail "midclose: not retried"
recv_mode ok
n=$((n + 5))
wait_for 60 recv_events_has $((n - 3)) || fail "midclose: not delivered"
stop_podtrail

# the dead letters go back, and are delivered at the next start
# the 413 run's 3 events and key, and its closing checkpoint if the stop
# sent it while the aggregator still answered 413
dead=$(dead_files)
[ "$dead" -ge 4 ] || fail "dead letters: $dead"
podtrail --state-dir="$T/state" --requeue-dead >"$T/requeue.out" 2>&1 ||
	fail "--requeue-dead failed: $(cat "$T/requeue.out")"
grep -q "$dead dead-letter batches ($dead events) moved back" "$T/requeue.out" ||
	fail "--requeue-dead said: $(cat "$T/requeue.out")"
[ "$(dead_files)" = 0 ] || fail "dead letters left after --requeue-dead"
[ "$(spool_events)" = "$dead" ] || fail "requeued events not spooled: $(spool_events)"
run
wait_for 60 recv_events_has $n || fail "requeued: $(recv_events) of $n delivered"
stop_podtrail
verify_json
[ "$(vq 's["gaps"]')" = "[]" ] || fail "the chain has gaps: $(vq 's["gaps"]')"
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"]')" = 0 ] ||
	fail "verify found tampering"
[ "$(vq 's["events"]')" -ge "$n" ] || fail "verify saw $(vq 's["events"]') of $n events"
note "requeued events $dead_first..$((dead_first + 2)) delivered; chain complete"
