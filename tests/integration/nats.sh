# tests/integration/nats.sh - a real NATS JetStream cluster on 127.0.0.1
# for the nats:// scenarios: nats-server processes started by the test,
# each with its own store dir and free ports, routes between all of
# them, stopped at exit. Source after common.sh (and https.sh).
need_cmd nats-server "$PYTHON3"
NATSCTL=${NATSCTL:-$top_builddir/tests/helpers/natsctl}
[ -x "$NATSCTL" ] || skip "built without NATS (no tests/helpers/natsctl)"
PODTRAIL_VERIFY=${PODTRAIL_VERIFY:-$top_builddir/podtrail-verify}

NATS_N=0
declare -a NATS_PID NATS_CPORT NATS_RPORT NATS_MPORT
NATS_URL=

# nats_cluster N [extra config lines]: write the configs of N servers
# (a cluster when N > 1) and start them all
nats_cluster() {
	local i j routes extra=${2:-}
	NATS_N=$1
	for ((i = 1; i <= NATS_N; i++)); do
		NATS_CPORT[i]=$(free_port)
		NATS_RPORT[i]=$(free_port)
		NATS_MPORT[i]=$(free_port)
	done
	NATS_URL=nats://
	for ((i = 1; i <= NATS_N; i++)); do
		NATS_URL+="127.0.0.1:${NATS_CPORT[i]}"
		[ $i = "$NATS_N" ] || NATS_URL+=,
	done
	for ((i = 1; i <= NATS_N; i++)); do
		routes=
		for ((j = 1; j <= NATS_N; j++)); do
			[ $j = $i ] || routes+="${routes:+, }nats-route://127.0.0.1:${NATS_RPORT[j]}"
		done
		mkdir -p "$T/js$i"
		{
			echo "server_name: n$i"
			echo "listen: 127.0.0.1:${NATS_CPORT[i]}"
			echo "http: 127.0.0.1:${NATS_MPORT[i]}"
			echo "jetstream { store_dir: \"$T/js$i\" }"
			[ "$NATS_N" = 1 ] || echo "cluster { name: podtrail-test
  listen: 127.0.0.1:${NATS_RPORT[i]}
  routes: [ $routes ] }"
			printf '%s\n' "$extra"
		} >"$T/nats$i.conf"
		nats_start $i
	done
	add_cleanup nats_stop_all
	# start_podtrail (https.sh) publishes to the cluster
	PT_OUTPUT_ARGS="--output=$NATS_URL"
}
nats_start() {
	nats-server -c "$T/nats$1.conf" >>"$T/nats$1.log" 2>&1 &
	NATS_PID[$1]=$!
}
nats_stop() {
	[ -n "${NATS_PID[$1]:-}" ] || return 0
	kill "${NATS_PID[$1]}" 2>/dev/null
	wait "${NATS_PID[$1]}" 2>/dev/null || true
	NATS_PID[$1]=
}
nats_kill() {
	[ -n "${NATS_PID[$1]:-}" ] || return 0
	kill -9 "${NATS_PID[$1]}" 2>/dev/null
	wait "${NATS_PID[$1]}" 2>/dev/null || true
	NATS_PID[$1]=
}
nats_stop_all() {
	local i
	for ((i = 1; i <= NATS_N; i++)); do nats_stop $i; done
}
# nats_jsz I EXPR: EXPR over server I's /jsz (accounts, streams, config)
nats_jsz() {
	"$PYTHON3" - "${NATS_MPORT[$1]}" "$2" <<'PY'
import json, sys, urllib.request
u = "http://127.0.0.1:%s/jsz?accounts=true&streams=true&config=true" % sys.argv[1]
j = json.load(urllib.request.urlopen(u, timeout=2))
streams = {s["name"]: s for a in j.get("account_details") or []
           for s in a.get("stream_detail") or []}
v = eval(sys.argv[2], {"j": j, "streams": streams})
print(v)
sys.exit(0 if v not in (None, False, "", "None") else 1)
PY
}
# the cluster has a JetStream meta leader (or is a single server)
nats_ready() {
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		[ -n "${NATS_PID[i]:-}" ] || continue
		if [ "$NATS_N" = 1 ]; then
			nats_jsz $i 'j.get("config") is not None' >/dev/null || return 1
		else
			nats_jsz $i '(j.get("meta_cluster") or {}).get("leader")' >/dev/null || return 1
		fi
	done
}
wait_nats_ready() { wait_for 60 nats_ready || fail "NATS cluster has no JetStream meta leader"; }
# a server that is up
nats_up_server() {
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		[ -n "${NATS_PID[i]:-}" ] && { echo $i; return 0; }
	done
	return 1
}
# nats_stream_leader NAME: the server number leading the stream
nats_stream_leader() {
	local l
	l=$(nats_jsz "$(nats_up_server)" "(streams.get('$1') or {}).get('cluster', {}).get('leader')") || return 1
	echo "${l#n}"
}
# nats_stream_msgs NAME: messages stored in the stream (as a server sees it)
nats_stream_msgs() {
	nats_jsz "${2:-$(nats_up_server)}" "(streams.get('$1') or {}).get('state', {}).get('messages', 0)"
}
# nats_req SUBJECT [PAYLOAD]: a request to any server, the reply on stdout
nats_req() { "$NATSCTL" "nats://127.0.0.1:${NATS_CPORT[$(nats_up_server)]}" req "$@"; }
# nats_dump STREAM OUT: every stored message, read one by one through
# the stream's own API ($JS.API.STREAM.MSG.GET), not podtrail's reader:
# the NDJSON lines into OUT (gunzip'd when the header says gzip), one
# "SEQ MSGID ENCODING" line per message into OUT.msgs
nats_dump() {
	"$PYTHON3" - "$NATSCTL" "nats://127.0.0.1:${NATS_CPORT[$(nats_up_server)]}" "$1" "$2" <<'PY'
import base64, gzip, json, subprocess, sys
ctl, url, stream, out = sys.argv[1:]
def req(subj, body=""):
    r = subprocess.run([ctl, url, "req", subj, body], capture_output=True,
                       text=True, check=True)
    return json.loads(r.stdout)
info = req("$JS.API.STREAM.INFO." + stream)
st = info["state"]
with open(out, "wb") as f, open(out + ".msgs", "w") as m:
    for seq in range(st["first_seq"], st["last_seq"] + 1):
        msg = req("$JS.API.STREAM.MSG.GET." + stream, json.dumps({"seq": seq}))["message"]
        hdrs = base64.b64decode(msg.get("hdrs", "")).decode()
        h = dict(l.split(": ", 1) for l in hdrs.split("\r\n")[1:] if ": " in l)
        data = base64.b64decode(msg.get("data", ""))
        if h.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        f.write(data)
        m.write("%d %s %s\n" % (seq, h.get("Nats-Msg-Id", "-"), h.get("Content-Encoding", "-")))
PY
}
# exactly_once FILE FIRST LAST: every audit serial FIRST..LAST once, and
# every chain seq of the file's stream once, from 1 with no gap
exactly_once() {
	"$PYTHON3" - "$@" <<'PY'
import collections, json, sys
path, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
serials, seqs = collections.Counter(), collections.Counter()
for line in open(path, encoding="utf-8"):
    ev = json.loads(line)
    seqs[(ev["stream"], ev["seq"])] += 1
    if ev["type"] == "audit":
        serials[ev["serial"]] += 1
bad = [s for s in range(first, last + 1) if serials[s] != 1]
extra = [s for s in serials if not first <= s <= last]
dup = [k for k, n in seqs.items() if n != 1]
streams = {k[0] for k in seqs}
gaps = [(st, n) for st in streams
        for n in range(1, max(q for s2, q in seqs if s2 == st) + 1)
        if (st, n) not in seqs]
print("events %d, audit %d, streams %d" % (sum(seqs.values()), sum(serials.values()), len(streams)))
if bad or extra or dup or gaps:
    print("not exactly once: serials %s, extra %s, seqs twice %s, seqs missing %s" %
          (bad[:10], extra[:10], dup[:10], gaps[:10]))
    sys.exit(1)
PY
}
# metric NAME: a counter from $T/podtrail.prom (0 when absent)
metric() { awk -v k="podtrail_$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$T/podtrail.prom" 2>/dev/null || echo 0; }
# acked_has N: podtrail's metrics say N events were acked by the stream
acked_has() { [ "$(metric nats_sent_events)" -ge "$1" ]; }
# nats_req_pub SUBJECT MSGID FILE: publish with Nats-Msg-Id, the ack on stdout
nats_req_pub() { "$NATSCTL" "nats://127.0.0.1:${NATS_CPORT[$(nats_up_server)]}" pub "$@"; }
# nats_info NAME EXPR: EXPR over the stream's info from the JetStream API
# (its leader answers: right wherever a one-replica stream was placed)
nats_info() {
	nats_req "\$JS.API.STREAM.INFO.$1" '' | "$PYTHON3" -c '
import json, sys
i = json.load(sys.stdin)
v = eval(sys.argv[1], {"cfg": i.get("config", {}), "state": i.get("state", {})})
print(v)
sys.exit(0 if v not in (None, False, "", "None") else 1)' "$2"
}
