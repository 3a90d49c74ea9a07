#!/usr/bin/env bash
# The stream podtrail creates is deploy/nats-stream.json (immutable:
# deny_delete, deny_purge; 3 replicas; discarded by age only), and it
# refuses deletes and purges. A stream podtrail did not create (one
# replica, no deny flags) is used as it is, with a warning, never a
# failure. The same Nats-Msg-Id published twice is stored once.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
. "$top_srcdir/tests/integration/nats.sh"

nats_cluster 3
wait_nats_ready

# 1. podtrail creates PODTRAIL with the shipped definition
start_podtrail --batch-events=50 --batch-age-ms=100 --heartbeat-interval=0
wait_for 60 log_has "created stream PODTRAIL" || fail "stream not created"
feed 1 200
wait_for 60 nats_jsz 1 "(streams.get('PODTRAIL') or {}).get('state', {}).get('messages', 0) >= 4" ||
	fail "batches not stored"
stop_podtrail
nats_jsz 1 "streams['PODTRAIL']['config']" >/dev/null || fail "no stream config in /jsz"
"$PYTHON3" - "${NATS_MPORT[1]}" "$top_srcdir/deploy/nats-stream.json" <<'PY' || fail "created stream differs from deploy/nats-stream.json"
import json, sys, urllib.request
j = json.load(urllib.request.urlopen("http://127.0.0.1:%s/jsz?accounts=true&streams=true&config=true" % sys.argv[1]))
cfg = [s for a in j["account_details"] for s in a["stream_detail"] if s["name"] == "PODTRAIL"][0]["config"]
want = json.load(open(sys.argv[2]))
diff = {k: (v, cfg.get(k)) for k, v in want.items() if cfg.get(k) != v}
print("definition:", "same" if not diff else diff)
sys.exit(1 if diff else 0)
PY
# immutable: the servers refuse to delete a message or purge the stream
nats_req '$JS.API.STREAM.MSG.DELETE.PODTRAIL' '{"seq":1}' >"$T/del.json"
nats_req '$JS.API.STREAM.PURGE.PODTRAIL' '' >"$T/purge.json"
grep -q '"error"' "$T/del.json" || fail "a message could be deleted: $(cat "$T/del.json")"
grep -q '"error"' "$T/purge.json" || fail "the stream could be purged: $(cat "$T/purge.json")"
[ "$(nats_stream_msgs PODTRAIL)" -ge 4 ] || fail "messages went missing"
note "delete refused: $(cat "$T/del.json")"

# 2. the same message id twice: stored once, the second ack says duplicate
printf '{"probe":1}\n' >"$T/one"
a=$(nats_req_pub podtrail.dup "dup-test:1-1" "$T/one")
b=$(nats_req_pub podtrail.dup "dup-test:1-1" "$T/one")
note "first ack $a, second $b"
case $b in *'"duplicate":'*true*) ;; *) fail "second publish not reported as a duplicate: $b" ;; esac
[ "$(echo "$a" | grep -o '"seq":[0-9]*')" = "$(echo "$b" | grep -o '"seq":[0-9]*')" ] ||
	fail "the duplicate got its own seq"

# 3. a stream made by someone else: one replica, no deny flags, another name
nats_req '$JS.API.STREAM.CREATE.THEIRS' \
	'{"name":"THEIRS","subjects":["theirs.>"],"num_replicas":1,"storage":"file","retention":"limits","discard":"old"}' >"$T/theirs.json"
grep -q '"error"' "$T/theirs.json" && fail "could not make stream THEIRS: $(cat "$T/theirs.json")"
rm -rf "$T/state"
start_podtrail --batch-events=50 --batch-age-ms=100 --heartbeat-interval=0 \
	--nats-stream=THEIRS --nats-subject=theirs.NODE
wait_for 60 log_has "stream THEIRS exists" || fail "existing stream not found"
log_has "lacks deny_delete/deny_purge" || fail "no warning about the missing deny flags"
feed 1001 200
wait_for 60 nats_info THEIRS "state.get('messages', 0) >= 4" ||
	fail "batches not stored in the existing stream"
stop_podtrail
nats_info THEIRS "cfg['num_replicas'] == 1 and not cfg.get('deny_delete') and not cfg.get('deny_purge')" >/dev/null ||
	fail "the existing stream was changed"
"$PODTRAIL_VERIFY" "$NATS_URL/THEIRS" || fail "verify over THEIRS failed"
note "existing stream used as it is: $(grep -m1 'stream THEIRS' "$T/podtrail.log")"
