#!/usr/bin/env bash
# A retry after a lost ack is stored once: batches spooled while NATS is
# down are published when it comes up; their segments are then put back
# into the spool (as if every ack had been lost after the server stored
# the batch) and podtrail restarted: it publishes them again with the
# same Nats-Msg-Id, the server reports duplicates, and the stream still
# holds every event once. Also: podtrail starts while NATS is down, and
# on a single server (no cluster) it makes the stream unreplicated,
# with a warning.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
. "$top_srcdir/tests/integration/nats.sh"

nats_cluster 1
wait_nats_ready
nats_stop 1 # down before podtrail starts

start_podtrail --batch-events=50 --batch-age-ms=100 --heartbeat-interval=0 \
	--metrics-file="$T/podtrail.prom" --metrics-interval=1
feed 1 300
wait_for 60 spool_has 300 || fail "batches not spooled while NATS was down"
wait_for 30 log_has "not usable yet" || fail "no warning while NATS was down"
cp -a "$T/state/spool" "$T/saved"
nsaved=$(find "$T/saved" -name '*.seg' | wc -l)
note "$nsaved segments spooled while down"
nats_start 1
wait_for 60 acked_has 300 || fail "spooled batches not delivered"
log_has "NOT replicated" || fail "no warning about the unreplicated stream"
# libnats's threads (started after privileges were dropped, from a
# helper) hold no capability and take no signal: the main thread does
ntask=0
for t in /proc/"$PT_PID"/task/*; do
	[ "${t##*/}" != "$PT_PID" ] || continue
	ntask=$((ntask + 1))
	grep -q '^CapEff:[[:space:]]*0*$' "$t/status" || fail "thread ${t##*/} holds capabilities: $(grep CapEff "$t/status")"
	mask=$((16#$(awk '/^SigBlk/ { print $2 }' "$t/status")))
	for sig in 1 2 10 15; do # HUP INT USR1 TERM: the loop's
		(((mask >> (sig - 1)) & 1)) || fail "thread ${t##*/} takes signal $sig"
	done
done
[ "$ntask" -ge 3 ] || fail "only $ntask helper threads: is libnats running?"
note "$ntask threads beside the main one: no capabilities, signals blocked"
stop_podtrail
spool_empty || fail "delivered segments left in the spool"
before=$(nats_stream_msgs PODTRAIL)
note "stream holds $before messages"

# the acks were "lost": the same segments come back, podtrail restarts
cp -a "$T/saved/." "$T/state/spool/"
rm -f "$T/podtrail.prom"
start_podtrail --batch-events=50 --batch-age-ms=100 --heartbeat-interval=0 \
	--metrics-file="$T/podtrail.prom" --metrics-interval=1 --checkpoint-interval=3600
wait_for 60 acked_has 300 || fail "re-spooled batches not published again"
wait_for 30 spool_empty || fail "re-spooled segments not removed"
wait_for 10 test "$(metric nats_duplicates)" -ge "$nsaved" ||
	fail "server reported $(metric nats_duplicates) duplicates, expected $nsaved"
stop_podtrail
after=$(nats_stream_msgs PODTRAIL)
# the retried batches store nothing; the restart's own podtrail_key and
# its closing checkpoint are new events, at most two new messages
[ "$after" -ge "$before" ] && [ "$after" -le $((before + 2)) ] ||
	fail "stream grew from $before to $after messages on a retry"
nats_dump PODTRAIL "$T/stream.ndjson"
exactly_once "$T/stream.ndjson" 1 300 || fail "not exactly once"
"$PODTRAIL_VERIFY" --json "$NATS_URL/PODTRAIL" >"$T/verify.json" || fail "verify failed"
[ "$(vq 's["duplicates"]')" = 0 ] || fail "verify saw duplicates"
note "retried $nsaved batches: $(metric nats_duplicates) duplicates reported, stream still $after messages"
