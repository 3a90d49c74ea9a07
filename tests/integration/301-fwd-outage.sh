#!/usr/bin/env bash
# Aggregator down for a while, then back: everything is delivered from
# the spool, oldest first, and podtrail-verify passes.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
RECV_PORT=$(free_port)
recv_mode ok
# aggregator down: nothing listens on RECV_PORT
start_podtrail --batch-age-ms=100 --batch-events=50
feed 1 300
wait_for 30 spool_has 300 || fail "batches were not spooled while down"
wait_for 30 log_has "will retry" || fail "no retry logged"
note "spooled $(spool_events) events in $(spool_files) batches while down"
feed 301 100
start_receiver
wait_for 60 recv_has 400 || fail "only $(recv_count) of 400 delivered"
feed 401 100
wait_for 30 recv_has 500 || fail "only $(recv_count) of 500 delivered"
stop_podtrail
[ "$(spool_files)" = 0 ] || fail "spool not empty after delivery"
"$PODTRAIL_VERIFY" "$RECV_STORE" || fail "verify failed"
# delivered oldest first: seqs arrive in increasing order
"$PYTHON3" - "$RECV_STORE" <<'PY' || fail "batches arrived out of order"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
seqs = [e["seq"] for e in evs]
# besides the 500 events: the run's podtrail_key and its checkpoints
assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs[:20]
assert sum(e["type"] == "audit" for e in evs) == 500, len(evs)
PY
note "delivered $(recv_count) events; verify OK"
