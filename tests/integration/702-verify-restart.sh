#!/usr/bin/env bash
# Restarts against the signed chain. kill -9: the next start's signed
# podtrail_key declares the seqs the crash may have cost (after the last
# checkpoint, and the unused seq reservation), and podtrail-verify
# reports an explained gap and passes (it failed with a gap before). An
# honest outage (aggregator down, a clean stop with the spool full, a
# restart, delivery) passes pinned, witnessed (over https) and fresh.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

V=$PODTRAIL_VERIFY
make_certs
RECV_PORT=$(free_port)
S=$T/store.ndjson
mkdir -p "$T/trust"
podtrail --state-dir="$T/state" --node=node-k --print-key >"$T/trust/node-k.pem"

# ---- kill -9 and restart
W=$T/witness.ndjson
ckpts() { grep -c '"type":"podtrail_checkpoint"' "$W" 2>/dev/null || true; }
more_ckpts() { [ "$(ckpts)" -ge "$1" ]; }
audits() { grep -c '"type":"audit"' "$S" 2>/dev/null || true; }
audits_have() { [ "$(audits)" -ge "$1" ]; }
start_podtrail --node=node-k --output="file:$S" --checkpoint-interval=1 \
	--checkpoint-output="file:$W"
feed 1 20
wait_for 30 more_ckpts 1 || fail "no checkpoint"
wait_for 30 audits_have 20 || fail "events not written"
n=$(ckpts)
wait_for 30 more_ckpts $((n + 1)) || fail "no checkpoint after the events"
feed 21 10
wait_for 30 audits_have 30 || fail "events not written"
kill9_podtrail
start_podtrail --node=node-k --output="file:$S" --checkpoint-interval=1 \
	--checkpoint-output="file:$W"
feed 31 10
wait_for 30 audits_have 40 || fail "events after the restart not written"
stop_podtrail
log_has "previous run stopped uncleanly: seqs" || fail "the restart declared nothing"
"$V" --trust "$T/trust" --witness "$W" "$S" >"$T/out" ||
	{ cat "$T/out"; fail "kill -9 and restart failed verification"; }
grep -q "explained gap: seq [0-9]*\.\.[0-9]* absent, declared by the signed restart" "$T/out" ||
	{ cat "$T/out"; fail "the gap is not reported as explained"; }
grep -q "intact, gaps explained" "$T/out" || fail "stream verdict wrong"
"$V" --json "$S" >"$T/v.json"
"$PYTHON3" - "$T/v.json" <<'PY' || fail "JSON report wrong"
import json, sys
s = json.load(open(sys.argv[1]))["streams"][0]
assert s["ok"] and s["missing"] == 0 and s["explained"] > 0, s
assert s["explained_gaps"][0]["reason"] == "unclean stop", s
PY
# a gap the restart does not cover is still missing: cut an event that
# a checkpoint signed before the crash
grep -v '/etc/file5"' "$S" >"$T/del.ndjson"
if "$V" "$T/del.ndjson" >"$T/out"; then fail "a deleted signed event passed"; fi
grep -q "gap: seq .* missing" "$T/out" || { cat "$T/out"; fail "no missing gap"; }
# a forged restart claim (edited skipped range) breaks its signature
"$PYTHON3" - "$S" >"$T/claim.ndjson" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] == "podtrail_key" and "skipped_from" in e["signed"]:
        e["signed"]["skipped_from"] = 1
    print(json.dumps(e))
PY
if "$V" "$T/claim.ndjson" >"$T/out"; then fail "an edited restart claim passed"; fi

# ---- an honest outage: aggregator down, clean stop, restart, delivery
stop_receiver
WPORT=$(free_port)
"$PYTHON3" "$RECEIVER" --port "$WPORT" --cert "$T/pki/server.crt" \
	--key "$T/pki/server.key" --store "$T/wit.ndjson" \
	--control "$T/wctl" --log "$T/wlog" &
WPID=$!
add_cleanup "kill $WPID 2>/dev/null; wait $WPID 2>/dev/null"
wait_for 20 port_open "$WPORT" || fail "witness receiver did not start"
podtrail --state-dir="$T/o" --node=node-o --print-key >"$T/trust/node-o.pem"
start_podtrail --node=node-o --state-dir="$T/o" --checkpoint-interval=1 \
	--checkpoint-output="https://127.0.0.1:$WPORT/ingest" --batch-age-ms=100
feed 1 30
wait_for 30 log_has "will retry" || fail "no retry while the aggregator is down"
stop_podtrail
start_receiver
start_podtrail --node=node-o --state-dir="$T/o" --checkpoint-interval=1 \
	--checkpoint-output="https://127.0.0.1:$WPORT/ingest" --batch-age-ms=100
feed 31 10
wait_for 60 recv_events_has 40 || fail "only $(recv_events) of 40 delivered"
stop_podtrail
wit_ckpts() { grep -c podtrail_checkpoint "$T/wit.ndjson" 2>/dev/null || true; }
[ "$(wit_ckpts)" -ge 2 ] || fail "the https witness got $(wit_ckpts) checkpoints"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$V" --trust "$T/trust" --witness "$T/wit.ndjson" --max-silence 60 --now "$now" \
	"$RECV_STORE" >"$T/out" || { cat "$T/out"; fail "an honest outage failed verification"; }
grep -q "complete and intact" "$T/out" || fail "outage: not complete"
grep -q "explained gap" "$T/out" && fail "a clean stop declared a gap"
note "kill -9: explained gap, verify OK; honest outage + restart: OK (witness over https)"
