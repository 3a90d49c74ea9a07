#!/usr/bin/env bash
# Signed checkpoints against a dishonest store: a node's pinned key, its
# witness (checkpoint_output) and --max-silence catch a tail cut by a few
# events or by a whole checkpoint interval and a deleted stream, which
# plain chains accepted; an inclusion proof checks with only the node's
# public key, and one changed byte makes it fail.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

V=$PODTRAIL_VERIFY
W=$T/witness.ndjson
S=$T/store.ndjson
# no receiver: the output is a file
PT_OUTPUT_ARGS=--output=file:$S
mkdir -p "$T/trust"
# the key exists (and can be pinned) before the first start
podtrail --state-dir="$T/state" --node=node-a --print-key >"$T/trust/a.pem"
grep -q '^podtrail-node: node-a$' "$T/trust/a.pem" || fail "--print-key lacks the node line"
grep -q 'BEGIN PUBLIC KEY' "$T/trust/a.pem" || fail "--print-key printed no PEM"
[ "$(stat -c %a "$T/state/sign.key")" = 600 ] || fail "sign.key is not 0600"
cmp -s "$T/trust/a.pem" <(podtrail --state-dir="$T/state" --node=node-a --print-key) ||
	fail "--print-key changed the key"

ckpts() { grep -c '"type":"podtrail_checkpoint"' "$W" 2>/dev/null || true; }
more_ckpts() { [ "$(ckpts)" -ge "$1" ]; }
# node-a: three batches, each followed by a checkpoint, then two idle ones
start_podtrail --node=node-a --output="file:$S" --checkpoint-interval=1 \
	--checkpoint-output="file:$W"
for b in 0 1 2; do
	n=$(ckpts)
	feed $((b * 20 + 1)) 20
	wait_for 30 more_ckpts $((n + 1)) || fail "no checkpoint after batch $b"
done
n=$(ckpts)
wait_for 30 more_ckpts $((n + 2)) || fail "no checkpoints while idle"
stop_podtrail
grep -q 'sign.key\|PRIVATE' "$T/podtrail.log" && fail "the log mentions the private key"
# node-b: a second stream in the same witness
gen_audit 500 5 | podtrail --source=stdin --node=node-b --state-dir="$T/b" \
	--output="file:$T/b.ndjson" --checkpoint-output="file:$W" 2>/dev/null
podtrail --state-dir="$T/b" --print-key >"$T/trust/b.pem"
cat "$T/b.ndjson" >>"$S"

"$V" --trust "$T/trust" --witness "$W" "$S" >"$T/out" ||
	{ cat "$T/out"; fail "the honest store did not verify"; }
grep -q "(pinned key): complete and intact" "$T/out" || fail "not reported as pinned"
last_time=$(grep podtrail_checkpoint "$S" | grep node-a | tail -n 1 |
	"$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["signed"]["time"][:19] + "Z")')
"$V" --trust "$T/trust" --witness "$W" --max-silence 0 --now "$last_time" \
	"$T/store.ndjson" >/dev/null 2>&1 || true	# node-b may be a second older

expect_fail() {	# PATTERN ARGS...: verify exits 1 and the report matches
	local pat=$1 rc=0
	shift
	"$V" "$@" >"$T/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || { cat "$T/out"; fail "verify exited $rc, not 1: $*"; }
	grep -q -- "$pat" "$T/out" || { cat "$T/out"; fail "report lacks '$pat'"; }
}

# a tail cut by a few events: its last checkpoint is witnessed
grep -v node-b "$S" | head -n -3 >"$T/cut.ndjson"
expect_fail "witnessed seq .* is missing from the store" --trust "$T/trust" \
	--witness "$W" "$T/cut.ndjson"

# a whole interval cut, checkpoints and all: stale by its last checkpoint
grep -v node-b "$S" >"$T/a.ndjson"
cut_at=$(grep -n podtrail_checkpoint "$T/a.ndjson" | tail -n 3 | head -n 1 | cut -d: -f1)
head -n "$cut_at" "$T/a.ndjson" >"$T/interval.ndjson"
"$V" --trust "$T/trust" --max-silence 0 --now "$last_time" "$T/a.ndjson" >"$T/out" ||
	{ cat "$T/out"; fail "the uncut stream was stale at its last checkpoint"; }
expect_fail "stale: the last checkpoint is older than --max-silence" \
	--trust "$T/trust" --max-silence 0 --now "$last_time" "$T/interval.ndjson"
expect_fail "witnessed seq .* is missing" --witness "$W" "$T/interval.ndjson"

# a stream deleted from the store
expect_fail "stream missing from the store" --witness "$W" "$T/a.ndjson"

# unsigned lines where a key is pinned fail
grep -v '"type":"podtrail_' "$T/a.ndjson" >"$T/unsigned.ndjson" || true
expect_fail "not signed by a pinned key" --trust "$T/trust" "$T/unsigned.ndjson"

# an inclusion proof of one event, checked with only the public key
read -r stream seq < <(grep '/etc/file25"' "$T/a.ndjson" |
	"$PYTHON3" -c 'import json,sys; e = json.load(sys.stdin); print(e["stream"], e["seq"])')
"$V" --trust "$T/trust" --prove "$stream:$seq" "$S" >"$T/proof.json" 2>"$T/prove.err" ||
	{ cat "$T/prove.err"; fail "--prove failed"; }
"$V" --check-proof "$T/proof.json" --trust "$T/trust/a.pem" >"$T/out" ||
	{ cat "$T/out"; fail "a valid proof was rejected"; }
grep -q "proof OK: seq $seq of stream $stream" "$T/out" || fail "proof verdict wrong"
# the wrong node's key does not do
expect_fail "not pinned" --check-proof "$T/proof.json" --trust "$T/trust/b.pem"
# one changed byte, in the event, the path or the checkpoint, fails
for what in event path checkpoint; do
	"$PYTHON3" - "$T/proof.json" "$what" >"$T/bad.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
what = sys.argv[2]
if what == "path":
    h = p["path"][0]	# the event's interval holds more than itself
    p["path"][0] = ("1" if h[0] != "1" else "2") + h[1:]
else:
    s = p[what]
    i = s.index('"time":"') + 9	# a digit of the year
    p[what] = s[:i] + ("1" if s[i] != "1" else "3") + s[i + 1:]
print(json.dumps(p))
PY
	expect_fail "proof FAILED" --check-proof "$T/bad.json" --trust "$T/trust"
done
# the proof's file itself, one byte flipped at random past the header
"$PYTHON3" - "$T/proof.json" >"$T/flip.json" <<'PY'
import random, sys
b = bytearray(open(sys.argv[1], "rb").read())
random.seed(7)
for _ in range(20):
    i = random.randrange(40, len(b) - 2)
    if chr(b[i]) in "0123456789abcdef":
        b[i] = ord("0") if b[i] != ord("0") else ord("1")
        break
sys.stdout.buffer.write(bytes(b))
PY
rc=0
"$V" --check-proof "$T/flip.json" --trust "$T/trust" >"$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$T/out"; fail "a proof with a flipped byte gave $rc"; }
# an HMAC chain's event hashes are keyed: its proof checks with the key too
printf 'proof-k3y' >"$T/hkey"
chmod 0600 "$T/hkey"
gen_audit 700 5 | podtrail --source=stdin --node=node-c --state-dir="$T/c" \
	--hmac-key-file="$T/hkey" --output="file:$T/c.ndjson" 2>/dev/null
podtrail --state-dir="$T/c" --node=node-c --print-key >"$T/c.pem"
read -r stream seq < <(grep -v '"type":"podtrail_' "$T/c.ndjson" | head -n 1 |
	"$PYTHON3" -c 'import json,sys; e = json.load(sys.stdin); print(e["stream"], e["seq"])')
"$V" --key "$T/hkey" --trust "$T/c.pem" --prove "$stream:$seq" "$T/c.ndjson" \
	>"$T/hproof.json" 2>"$T/prove.err" || { cat "$T/prove.err"; fail "--prove of an HMAC chain failed"; }
"$V" --key "$T/hkey" --check-proof "$T/hproof.json" --trust "$T/c.pem" >"$T/out" ||
	{ cat "$T/out"; fail "an HMAC chain's proof was rejected with its key"; }
grep -q "proof OK: seq $seq of stream $stream" "$T/out" || fail "HMAC proof verdict wrong"
expect_fail "without its --key" --check-proof "$T/hproof.json" --trust "$T/c.pem"
printf 'other' >"$T/hkey2"
chmod 0600 "$T/hkey2"
expect_fail "proof FAILED" --key "$T/hkey2" --check-proof "$T/hproof.json" --trust "$T/c.pem"
note "pinned: ok; tail cut, interval cut, deleted stream, unsigned: caught; proof ok, altered proofs rejected; an HMAC chain's proof needs its key"
