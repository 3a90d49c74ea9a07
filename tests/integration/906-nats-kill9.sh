#!/usr/bin/env bash
# kill -9 while publishing to NATS, with the server down: the spooled
# batches and the batch being built (its crash copy, the spool's open
# segment) are published after the restart, exactly once; the chain
# continues and podtrail-verify over the stream reports only the seqs
# the crash left unused, as a gap the restart's podtrail_key explains.
# The nats:// output once kept no crash copy: the batch being built was
# lost with the process.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
. "$top_srcdir/tests/integration/nats.sh"

nats_cluster 1
wait_nats_ready
nats_stop 1 # down: batches stay in the spool
# batches seal by count only, so the last 21 lines (the key event and
# 220 events make 221) stay in the batch being built
start_podtrail --batch-age-ms=600000 --batch-events=40 --checkpoint-interval=3600 \
	--heartbeat-interval=0
feed 1 220
wait_for 30 spool_has 200 || fail "batches were not spooled"
emitted_221() { kill -USR1 "$PT_PID"; grep -q '"emitted":221' "$T/podtrail.log"; }
wait_for 30 emitted_221 || fail "podtrail did not take the last 20 events"
# the crash copy is written once per loop turn: wait for all 21 lines
open_lines() { cat "$T"/state/spool/open-*.ndjson 2>/dev/null | wc -l; }
wait_for 30 test "$(open_lines)" -ge 21 || fail "no crash copy of the batch being built ($(open_lines) lines)"
kill9_podtrail
note "killed with $(spool_events) events spooled, $(open_lines) in the batch being built"

nats_start 1
wait_nats_ready
start_podtrail --batch-age-ms=100 --batch-events=40 --heartbeat-interval=0 \
	--metrics-file="$T/podtrail.prom" --metrics-interval=1
wait_for 60 acked_has 221 || fail "spool not published after the restart ($(metric nats_sent_events) acked)"
log_has "21 events of a batch being built" || fail "recovery not logged"
feed 1000 50
wait_for 30 acked_has 271 || fail "new events not published ($(metric nats_sent_events) acked)"
wait_for 30 spool_empty || fail "acked segments left in the spool"
stop_podtrail

nats_dump PODTRAIL "$T/stream.ndjson"
# serials 1..220 then 1000..1049, once each
"$PYTHON3" - "$T/stream.ndjson" <<'PY' || fail "not exactly once in the stream"
import collections, json, sys
c = collections.Counter(json.loads(l).get("serial") for l in open(sys.argv[1])
                        if json.loads(l)["type"] == "audit")
want = set(range(1, 221)) | set(range(1000, 1050))
bad = sorted(s for s in want if c[s] != 1) + sorted(s for s in c if s not in want)
print("audit events %d, wrong %s" % (sum(c.values()), bad[:10]))
sys.exit(1 if bad else 0)
PY
"$PODTRAIL_VERIFY" --json "$NATS_URL/PODTRAIL" >"$T/verify.json" 2>"$T/verify.err" || true
cat "$T/verify.json"
[ "$(vq 'len(r["streams"])')" = 1 ] || fail "restart started a new stream"
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"] + r["invalid_lines"]')" = 0 ] ||
	fail "verify found tampering after kill -9"
[ "$(vq 's["duplicates"]')" = 0 ] || fail "verify saw duplicates"
# seq 1 is the run's podtrail_key, the 220 events are seqs 2..221
[ "$(vq 's["explained_gaps"][0]["from"]')" = 222 ] ||
	fail "the gap should start after the last event read ($(vq 's["explained_gaps"]'))"
[ "$(vq 's["missing"]')" = 0 ] || fail "the gap after kill -9 is not explained"
[ "$(vq 'r["ok"]')" = True ] || fail "an explained restart gap must not fail verify"
note "after kill -9: $(vq 's["events"]') events in the stream, explained gap $(vq 's["explained_gaps"]')"
