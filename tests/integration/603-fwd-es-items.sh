#!/usr/bin/env bash
# Elasticsearch _bulk answers item by item (receiver.py --kind
# elasticsearch, written from the bulk API: per-item status, create
# with an _id that exists answers 409). podtrail sends create with
# _id = stream:seq, so the resend that a 429 item needs stores nothing
# twice (the stored items answer 409, which counts as delivered); an
# item refused for good (400) is set aside alone, the rest delivered.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
# seq 3: 429 once (rejected execution), seq 5: 400 (mapping) every time
recv_mode items 3:429,5:400
start_receiver --kind elasticsearch --data-stream
# seq 1 is the run's podtrail_key, the 10 events are seqs 2..11, the
# stop's checkpoint seq 12 (none before it)
start_podtrail --format=elasticsearch --es-index=logs-podtrail-test \
	--batch-age-ms=1000 --output="https://127.0.0.1:$RECV_PORT/_bulk" \
	--checkpoint-interval=3600
feed 1 10
wait_for 30 recv_has 10 || fail "$(recv_count) of 10 documents stored"
wait_for 30 spool_empty || fail "spool not empty: $(ls "$T/state/spool")"
stop_podtrail
grep -q "_bulk: 1 of [0-9]* items must be retried" "$T/podtrail.log" ||
	fail "the 429 item is not logged: $(grep _bulk "$T/podtrail.log")"
grep -q "_bulk: 1 of [0-9]* items refused: mapper_parsing_exception" "$T/podtrail.log" ||
	fail "the refused item is not logged: $(grep _bulk "$T/podtrail.log")"
# each document once: the resend stored nothing twice
[ "$(recv_count)" = 11 ] || fail "$(recv_count) documents stored for 11 events (duplicates)"
dups=$("$PYTHON3" -c 'import json,sys,collections; c=collections.Counter(json.loads(l)["seq"] for l in open(sys.argv[1])); print(sum(v > 1 for v in c.values()))' "$RECV_STORE")
[ "$dups" = 0 ] || fail "$dups seqs stored twice"
grep -q '^200 ' "$RECV_LOG" || fail "no _bulk request answered"
# the resend: the 429 item's batch went twice
[ "$(grep -c '^200 ' "$RECV_LOG")" -ge 2 ] || fail "no resend: $(cat "$RECV_LOG")"
# the refused one alone is a dead letter, and completes the chain
[ "$(dead_files)" = 1 ] && [ "$(dead_events)" = 1 ] ||
	fail "expected one dead letter of one event: $(ls "$T/state/dead")"
ls "$T/state/dead" | grep -q -- '-5-5-1\.seg$' || fail "the dead letter is not seq 5: $(ls "$T/state/dead")"
[ -z "$(ls "$T/state/spool")" ] || fail "spool not empty: $(ls "$T/state/spool")"
verify_json
[ "$(vq 's["gaps"]')" = "[[5, 5]]" ] || fail "expected seq 5 as the only gap: $(vq 's["gaps"]')"
"$PODTRAIL_VERIFY" "$RECV_STORE" "$T"/state/dead/*.seg ||
	fail "store + dead letter do not verify"
