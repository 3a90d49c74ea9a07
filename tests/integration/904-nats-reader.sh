#!/usr/bin/env bash
# podtrail-verify's JetStream reader does not trust the consumer's
# bookkeeping for completeness. 1. Messages delivered and never acked
# (held back until the consumer's ack wait ends, as after a consumer
# leader change) are read by sequence: the read completes long before
# the 60 s ack wait, with nothing missed. 2. The consumer's leader steps
# down again and again while a reader reads: every message once.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
. "$top_srcdir/tests/integration/nats.sh"

nats_cluster 3
wait_nats_ready
start_podtrail --batch-events=10 --batch-age-ms=100 --heartbeat-interval=0 \
	--metrics-file="$T/podtrail.prom" --metrics-interval=1
wait_for 60 log_has "created stream PODTRAIL" || fail "stream not created"
N=1000
feed 1 "$N"
wait_for 120 acked_has "$N" || fail "not all batches acked"
stop_podtrail
nats_dump PODTRAIL "$T/stream.ndjson"
note "stream: $(wc -l <"$T/stream.ndjson.msgs") messages"
check_verify() {
	[ "$(vq 's["events"]')" = "$(wc -l <"$T/stream.ndjson")" ] || fail "$1: verify saw $(vq 's["events"]') events"
	[ "$(vq 's["duplicates"]')" = 0 ] || fail "$1: verify saw duplicates"
}

# 1. a durable whose first five messages were delivered and not acked
nats_req '$JS.API.CONSUMER.DURABLE.CREATE.PODTRAIL.held' \
	'{"stream_name":"PODTRAIL","config":{"durable_name":"held","deliver_policy":"all","ack_policy":"explicit","ack_wait":60000000000}}' \
	>"$T/held.json" || fail "consumer not created"
grep -q '"num_pending"' "$T/held.json" || fail "consumer not created: $(cat "$T/held.json")"
for i in 1 2 3 4 5; do
	nats_req '$JS.API.CONSUMER.MSG.NEXT.PODTRAIL.held' '{"batch":1}' >/dev/null ||
		fail "no message delivered"
done
# wait=20: giving up after 20 s without progress fails the read; the
# held messages would come back only after 60 s
"$PODTRAIL_VERIFY" --json "$NATS_URL/PODTRAIL?durable=held&wait=20" >"$T/verify.json" 2>"$T/verify.err" ||
	fail "held back: podtrail-verify failed: $(cat "$T/verify.err") $(head -c 300 "$T/verify.json")"
check_verify "held back"
grep -q "5 read by sequence" "$T/verify.err" || fail "held back: not said: $(cat "$T/verify.err")"
note "held back: $(grep -o '[0-9]* messages delivered twice.*' "$T/verify.err")"
# the reader acked everything it was given: only the five held remain
held_acks() {
	nats_req '$JS.API.CONSUMER.INFO.PODTRAIL.held' '' | "$PYTHON3" -c '
import json, sys
sys.exit(0 if json.load(sys.stdin).get("num_ack_pending") == 5 else 1)'
}
wait_for 20 held_acks || fail "held back: the reader's acks did not reach the consumer: $(nats_req '$JS.API.CONSUMER.INFO.PODTRAIL.held' '' | head -c 400)"

# 2. consumer leader changes during a read: another stream of 5,002
# one-line messages (published straight to the server), read while a
# client asks the consumer's leader to step down whenever the reader
# made progress since the last step-down
gen_audit 1 5000 >"$T/audit.log"
podtrail --source=file:"$T/audit.log" --output=file:"$T/many.ndjson" --state-dir="$T/st2" \
	--node=many --heartbeat-interval=0 2>>"$T/podtrail.log" || fail "replay failed"
nats_req '$JS.API.STREAM.CREATE.MANY' \
	'{"name":"MANY","subjects":["many.>"],"num_replicas":3,"storage":"file"}' >/dev/null ||
	fail "stream MANY not created"
# the NATS protocol by hand: HPUB with a Nats-Msg-Id per message, then
# PING until PONG (everything before it was processed)
nats_raw() {
	"$PYTHON3" - "${NATS_CPORT[$(nats_up_server)]}" "$@" <<'PY'
import json, socket, sys, time, os
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.recv(4096)
s.sendall(b'CONNECT {"verbose":false,"headers":true,"no_responders":false}\r\n')
def pong():
    s.sendall(b"PING\r\n")
    buf = b""
    while b"PONG" not in buf:
        buf += s.recv(65536)
if mode == "pub":
    out = []
    for n, line in enumerate(open(sys.argv[3], "rb"), 1):
        hdr = b"NATS/1.0\r\nNats-Msg-Id: many-%d\r\n\r\n" % n
        out.append(b"HPUB many.x %d %d\r\n%s%s\r\n" % (len(hdr), len(hdr) + len(line), hdr, line))
        if len(out) == 500:
            s.sendall(b"".join(out)); out = []; pong()
    s.sendall(b"".join(out)); pong()
else:  # step the consumer's leader down while pid lives, each time
    # after the reader made progress (a leader that never settles would
    # only test the reader's patience)
    pid, stream, durable = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    s.settimeout(2)
    s.sendall(b"SUB _INBOX.pt 1\r\n")
    buf = b""
    def info():
        global buf
        s.sendall(b"PUB $JS.API.CONSUMER.INFO.%s.%s _INBOX.pt 0\r\n\r\n"
                  % (stream.encode(), durable.encode()))
        deadline = time.time() + 2
        while time.time() < deadline:
            while b"\r\n" in buf:
                line, rest = buf.split(b"\r\n", 1)
                if line.startswith(b"MSG "):
                    n = int(line.split()[-1])
                    if len(rest) < n + 2:
                        break
                    buf = rest[n + 2:]
                    return json.loads(rest[:n])
                buf = rest
                if line == b"PING":
                    s.sendall(b"PONG\r\n")
            try:
                buf += s.recv(65536)
            except socket.timeout:
                return None
        return None
    n, last = 0, -1
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        i = info() or {}
        seq = (i.get("delivered") or {}).get("stream_seq", -1)
        if seq > last:
            s.sendall(b"PUB $JS.API.CONSUMER.LEADER.STEPDOWN.%s.%s 0\r\n\r\n"
                      % (stream.encode(), durable.encode()))
            n, last = n + 1, seq
        time.sleep(0.1)
    print(n)
PY
}
nats_raw pub "$T/many.ndjson" || fail "publishing failed"
M=$(wc -l <"$T/many.ndjson")
wait_for 60 nats_info MANY "state['messages'] == $M" || fail "MANY does not hold $M messages"
"$PODTRAIL_VERIFY" --json "$NATS_URL/MANY?durable=moving" >"$T/verify.json" 2>"$T/verify.err" &
VP=$!
downs=$(nats_raw stepdown $VP MANY moving)
wait $VP || fail "leader changes: podtrail-verify failed after $downs step-down requests: $(cat "$T/verify.err") $(head -c 300 "$T/verify.json")"
[ "$(vq 's["events"]')" = "$M" ] || fail "leader changes: verify saw $(vq 's["events"]') events"
[ "$(vq 's["duplicates"]')" = 0 ] || fail "leader changes: verify saw duplicates"
note "leader changes: $downs step-downs during the read; $(grep -o '[0-9]* messages delivered twice.*' "$T/verify.err" || echo "no redelivery")"
