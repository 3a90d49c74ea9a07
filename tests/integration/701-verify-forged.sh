#!/usr/bin/env bash
# Forgeries that a plain (or HMAC) chain could not catch: node B's key
# signing node A's stream; an event rewritten, and the chain rehashed, by
# someone holding only public keys; a checkpoint replayed from an earlier
# key epoch; a checkpoint forged with an earlier epoch's stolen key. Key
# epochs rotate every second here (key_epoch=1): each new key is
# certified by the old one, and only the current key is left on disk.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
need_cmd openssl

V=$PODTRAIL_VERIFY
W=$T/witness.ndjson
S=$T/store.ndjson
# no receiver: the output is a file
PT_OUTPUT_ARGS=--output=file:$S
mkdir -p "$T/trust"
podtrail --state-dir="$T/state" --node=node-a --print-key >"$T/trust/a.pem"
# what an intruder copies from node A before the first epoch ends
cp "$T/state/sign.key" "$T/stolen-epoch0.pem"

key_epochs() { { grep -o '"epoch":[0-9]*' "$W" 2>/dev/null || true; } | sort -u | wc -l; }
epochs_have() { [ "$(key_epochs)" -ge "$1" ]; }
start_podtrail --node=node-a --output="file:$S" --checkpoint-interval=1 \
	--key-epoch=1 --checkpoint-output="file:$W"
for b in 0 1 2; do
	n=$(key_epochs)
	feed $((b * 20 + 1)) 20
	wait_for 30 epochs_have $((n + 1)) || fail "no new key epoch after batch $b"
done
stop_podtrail
grep -q "previous key .* is destroyed" "$T/podtrail.log" || fail "no epoch logged"
ls "$T/state" >"$T/files"
grep -q 'sign.key.new' "$T/files" && fail "a second private key was left on disk"
cmp -s "$T/state/sign.key" "$T/stolen-epoch0.pem" && fail "the epoch-0 key is still on disk"
"$V" --trust "$T/trust" --witness "$W" "$S" >"$T/out" ||
	{ cat "$T/out"; fail "the honest store did not verify"; }
grep -q "checkpoints (pinned key): complete and intact" "$T/out" || fail "not pinned"
[ "$("$V" --json "$S" | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["streams"][0]["key_epoch"] >= 2)')" = True ] ||
	fail "fewer than three epochs (0, 1, 2)"

expect_fail() {	# PATTERN ARGS...: verify exits 1 and the report matches
	local pat=$1 rc=0
	shift
	"$V" "$@" >"$T/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || { cat "$T/out"; fail "verify exited $rc, not 1: $*"; }
	grep -q -- "$pat" "$T/out" || { cat "$T/out"; fail "report lacks '$pat'"; }
}

# node B's key signing node A's stream (an intruder on B writes as A)
gen_audit 900 10 | podtrail --source=stdin --node=node-a --state-dir="$T/b" \
	--output="file:$T/b.ndjson" 2>/dev/null
podtrail --state-dir="$T/b" --node=node-b --print-key |
	sed 's/^podtrail-node: .*/podtrail-node: node-b/' >"$T/trust/b.pem"
"$V" "$T/b.ndjson" >/dev/null || fail "B's stream is not even self-consistent"
expect_fail "key is not pinned for this node" --trust "$T/trust" "$T/b.ndjson"

# forge.py MODE STORE [KEY...]: rewrite the file name of an audit event
# past seq 30 and rehash the chain after it, as anyone holding only
# public keys can; "replay" also appends the first (epoch 0) checkpoint
# as a new seq; "stolen" re-signs the checkpoint after the rewritten
# event with the given (earlier epoch's) key
cat >"$T/forge.py" <<'PY'
import base64, hashlib, json, subprocess, sys

mode, store = sys.argv[1], sys.argv[2]
evs = sorted((json.loads(l) for l in open(store)), key=lambda e: e["seq"])
canon = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def rehash(i):
    for j in range(i, len(evs)):
        e = evs[j]
        e["prev"] = evs[j - 1]["hash"] if j else "0" * 64
        e.pop("hash", None)
        e["hash"] = hashlib.sha256((e["prev"] + canon(e)).encode()).hexdigest()

def mth(leaves):	# RFC 6962
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()

if mode == "stolen":	# an event of a later epoch than the stolen key's
    k = next(j for j, e in enumerate(evs)
             if e["type"] == "podtrail_key" and e["signed"]["epoch"] >= 1)
    i = next(j for j in range(k, len(evs)) if evs[j]["type"] == "audit")
else:
    i = next(j for j, e in enumerate(evs) if e["seq"] >= 30 and e["type"] == "audit")
evs[i]["paths"][0]["name"] = "/etc/forged"
rehash(i)
if mode == "replay":
    old = dict(next(e for e in evs if e["type"] == "podtrail_checkpoint"))
    old["seq"] = evs[-1]["seq"] + 1
    evs.append(old)
    rehash(len(evs) - 1)
elif mode == "stolen":
    c = next(j for j in range(i, len(evs)) if evs[j]["type"] == "podtrail_checkpoint")
    s = max(j for j in range(c) if evs[j]["type"].startswith("podtrail_"))
    leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(e["hash"])).digest() for e in evs[s:c]]
    pub = open(sys.argv[4]).read().strip()
    body = dict(evs[c]["signed"], head=evs[c - 1]["hash"], count=len(leaves),
                root=mth(leaves).hex(), key_id=sys.argv[5], epoch=0)
    msg = store + ".msg"	# Ed25519 signs in one shot: a file, not a pipe
    open(msg, "w").write(canon(body))
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", sys.argv[3],
                          "-in", msg], capture_output=True, check=True).stdout
    evs[c]["signed"] = body
    evs[c]["sig"] = base64.b64encode(sig).decode()
    rehash(c)
for e in evs:
    print(json.dumps(e))
PY
"$PYTHON3" "$T/forge.py" rewrite "$S" >"$T/rewrite.ndjson"
# what a chain without signatures makes of it: nothing to see
grep -v '"type":"podtrail_' "$T/rewrite.ndjson" | "$PYTHON3" -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    assert e["hash"]' || fail "rewrite produced no chain"
expect_fail "Merkle root differs\|head is not the event before it" \
	--trust "$T/trust" "$T/rewrite.ndjson"
expect_fail "witnessed seq .* differs" --witness "$W" "$T/rewrite.ndjson"

"$PYTHON3" "$T/forge.py" replay "$S" >"$T/replay.ndjson"
expect_fail "signed for another seq (replayed)" --trust "$T/trust" "$T/replay.ndjson"

# the stolen epoch-0 key cannot sign for a later epoch
id0=$(grep '"epoch":0' "$W" | grep podtrail_key | head -n 1 |
	"$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["signed"]["key_id"])')
"$PYTHON3" "$T/forge.py" stolen "$S" "$T/stolen-epoch0.pem" "$T/trust/a.pem" "$id0" \
	>"$T/stolen.ndjson"
expect_fail "signed by a key that is not the stream's current one" \
	--trust "$T/trust" "$T/stolen.ndjson"
note "B's key for A, rewrite with public keys only, replayed and stolen-key checkpoints: all caught"
