#!/usr/bin/env bash
# bench/jetstream.sh - the same replay through the two ways off the node:
#   https: podtrail --source=file:CORPUS --output=https://127.0.0.1 to
#          tests/receiver.py --store-gzip (certificates made now)
#   nats:  podtrail --source=file:CORPUS --output=nats://... to a 3-node
#          JetStream cluster on 127.0.0.1 (nats-server -js, routes, file
#          store, a fresh 3-replica stream per run, made by podtrail)
# Each run is timed until podtrail exits with every event acked (checked
# after the clock stops: the receiver's store, or podtrail-verify over
# the stream). Prints events/s and podtrail's CPU per event (user + sys
# from GNU time): the receiver and the three servers share the machine,
# so they are in the wall time but not in podtrail's CPU; their own CPU
# over each run is printed beside it (the receiver's, or the three
# servers' together). Runs alternate https/nats. Not a test: no pass/fail.
#   bench/jetstream.sh [--corpus FILE] [--events N] [--runs N] [--replicas N]
# --replicas N: the stream is made before each run (deploy/nats-stream.json
# with N replicas, outside the timed window) instead of by podtrail (3).
# --pin: podtrail on CPU 0, the receiver and the servers on the others
# (taskset), as if they ran elsewhere: the wall time is then podtrail's.
# Without --corpus a synthetic corpus of N (default 50,000) open() events
# (SYSCALL, PATH, PROCTITLE, EOE) is written: no kernel audit needed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/bench/out"
corpus=
nevents=50000
runs=3
replicas=
pin=
while [ $# -gt 0 ]; do
	case "$1" in
	--corpus) corpus=$2; shift ;;
	--events) nevents=$2; shift ;;
	--runs) runs=$2; shift ;;
	--replicas) replicas=$2; shift ;;
	--pin) pin=1 ;;
	*) echo "usage: $0 [--corpus FILE] [--events N] [--runs N] [--replicas N] [--pin]" >&2; exit 2 ;;
	esac
	shift
done
mkdir -p "$out"
pt_cpu=() srv_cpu=()
if [ -n "$pin" ]; then
	[ "$(nproc)" -ge 2 ] || { echo "--pin needs 2 CPUs" >&2; exit 1; }
	pt_cpu=(taskset -c 0) srv_cpu=(taskset -c "1-$(($(nproc) - 1))")
fi
for c in nats-server openssl python3 /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "needs $c" >&2; exit 1; }
done

# an optimised build, apart from the sanitizer build the tests use
if [ ! -x "$out/build/podtrail" ] || [ -n "$(find "$top/src" "$top/include" -newer "$out/build/podtrail" -print -quit)" ]; then
	(cd "$top" && autoreconf -fi >/dev/null 2>&1)
	mkdir -p "$out/build"
	(cd "$out/build" && "$top/configure" CFLAGS="-O2 -g" >/dev/null && make -j"$(nproc)" podtrail podtrail-verify >/dev/null)
fi
[ -x "$out/build/podtrail-verify" ] || (cd "$out/build" && make podtrail-verify >/dev/null)
[ -z "$replicas" ] || [ -x "$out/build/tests/helpers/natsctl" ] || (cd "$out/build" && make tests/helpers/natsctl >/dev/null)

tmp=$(mktemp -d /tmp/podtrail-jetstream.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_open() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null; }

if [ -z "$corpus" ]; then
	corpus="$tmp/corpus.log"
	python3 - "$nevents" >"$corpus" <<'PY'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for s in range(1, n + 1):
    t = "1700000000.%03d:%d" % (s % 1000, s)
    w('type=SYSCALL msg=audit(%s): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd2a a2=241 a3=1b6 items=2 ppid=%d pid=%d auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=3 comm="writer" exe="/usr/bin/writer" key="podtrail_volume"\n' % (t, 900 + s % 50, 1000 + s % 4000))
    w('type=CWD msg=audit(%s): cwd="/var/lib/kubelet/pods"\n' % t)
    w('type=PATH msg=audit(%s): item=0 name="/var/lib/kubelet/pods/0d6c/volumes/kubernetes.io~empty-dir/cache/" inode=%d dev=fe:01 mode=040755 ouid=1000 ogid=1000 rdev=00:00 nametype=PARENT\n' % (t, 5000 + s % 100))
    w('type=PATH msg=audit(%s): item=1 name="/var/lib/kubelet/pods/0d6c/volumes/kubernetes.io~empty-dir/cache/f%d" inode=%d dev=fe:01 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE\n' % (t, s, 90000 + s))
    w('type=PROCTITLE msg=audit(%s): proctitle=77726974657200666F6F\n' % t)
    w('type=EOE msg=audit(%s): \n' % t)
PY
fi
events=$(grep -c '^type=EOE' "$corpus" || true)
[ "$events" -gt 0 ] || events=$(grep -c 'type=SYSCALL' "$corpus")

# certificates and the HTTPS receiver
(
	cd "$tmp"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=podtrail bench ca" \
		-keyout ca.key -out ca.crt >/dev/null 2>&1
	printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
	openssl req -newkey rsa:2048 -nodes -subj "/CN=server" -keyout server.key \
		-out server.csr >/dev/null 2>&1
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-days 2 -extfile server.ext -out server.crt >/dev/null 2>&1
)
rport=$(port)
echo ok >"$tmp/recv.mode"
: >"$tmp/recv.gz"
"${srv_cpu[@]}" python3 "$top/tests/receiver.py" --port "$rport" --cert "$tmp/server.crt" \
	--key "$tmp/server.key" --store "$tmp/recv.gz" --control "$tmp/recv.mode" \
	--store-gzip &
pids+=($!)

# the 3-node JetStream cluster
declare -a cp rp
for i in 1 2 3; do cp[i]=$(port); rp[i]=$(port); done
url="nats://127.0.0.1:${cp[1]},127.0.0.1:${cp[2]},127.0.0.1:${cp[3]}"
for i in 1 2 3; do
	routes=
	for j in 1 2 3; do [ $j = $i ] || routes+="${routes:+, }nats-route://127.0.0.1:${rp[j]}"; done
	mkdir -p "$tmp/js$i"
	cat >"$tmp/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${cp[i]}
jetstream { store_dir: "$tmp/js$i" }
cluster { name: bench, listen: 127.0.0.1:${rp[i]}, routes: [ $routes ] }
CONF
	"${srv_cpu[@]}" nats-server -c "$tmp/n$i.conf" >"$tmp/n$i.log" 2>&1 &
	pids+=($!)
done
for _ in $(seq 200); do
	port_open "$rport" && port_open "${cp[1]}" && port_open "${cp[2]}" && port_open "${cp[3]}" &&
		grep -q "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader" "$tmp"/n*.log && break
	sleep 0.1
done

echo "corpus: $corpus: $(wc -l <"$corpus") lines, $events events ($(du -h "$corpus" | cut -f1))"
echo "machine: $(nproc) cpus, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)${pin:+, podtrail pinned to CPU 0, servers to the rest}"

# CPU ticks the receiver and the servers have used so far
servers_ticks() {
	local p t=0
	for p in "${pids[@]}"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	echo $t
}
tick=$(getconf CLK_TCK)
# run NAME ARGS...: one timed replay; prints "NAME seconds cpu_seconds rss_kib servers_cpu_seconds"
run() {
	local name=$1 t m u s got before
	shift
	rm -rf "$tmp/state"
	before=$(servers_ticks)
	/usr/bin/time -f "%e %M %U %S" -o "$tmp/time.txt" "${pt_cpu[@]}" "$out/build/podtrail" \
		--source=file:"$corpus" --enrich=no --heartbeat-interval=0 --checkpoint-interval=3600 \
		--state-dir="$tmp/state" "$@" >/dev/null 2>"$tmp/$name.err" </dev/null ||
		{ cat "$tmp/$name.err" >&2; return 1; }
	read -r t m u s <"$tmp/time.txt"
	[ -z "$(find "$tmp/state/spool" -name '*.seg' 2>/dev/null)" ] ||
		{ echo "$name: batches left in the spool" >&2; cat "$tmp/$name.err" >&2; return 1; }
	echo "$name $t $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }') $m" \
		"$(awk -v d="$(($(servers_ticks) - before))" -v hz="$tick" 'BEGIN { printf "%.2f", d / hz }')"
}
: >"$tmp/results.txt"
for r in $(seq "$runs"); do
	: >"$tmp/recv.gz"
	run https --output="https://127.0.0.1:$rport/ingest" --ca-file="$tmp/ca.crt" >>"$tmp/results.txt"
	got=$(zcat "$tmp/recv.gz" | grep -c '"type":"audit"' || true)
	[ "$got" = "$events" ] || { echo "https run $r: $got of $events events delivered" >&2; exit 1; }
	if [ -n "$replicas" ]; then
		sed -e "s/\"PODTRAIL\"/\"BENCH$r\"/" -e "s/\"podtrail\.>\"/\"bench$r.>\"/" \
			-e "s/\"num_replicas\": 3/\"num_replicas\": $replicas/" "$top/deploy/nats-stream.json" >"$tmp/stream.json"
		"$out/build/tests/helpers/natsctl" "$url" req "\$JS.API.STREAM.CREATE.BENCH$r" "$(cat "$tmp/stream.json")" |
			grep -q '"num_replicas":'"$replicas" || { echo "could not make stream BENCH$r" >&2; exit 1; }
	fi
	run nats --output="$url" --nats-stream="BENCH$r" --nats-subject="bench$r.NODE" >>"$tmp/results.txt"
	"$out/build/podtrail-verify" --json "$url/BENCH$r" >"$tmp/verify.json" ||
		{ echo "nats run $r: the stream does not verify" >&2; head -c 2000 "$tmp/verify.json" >&2; exit 1; }
	got=$(python3 -c 'import json,sys; print(sum(s["events"] for s in json.load(open(sys.argv[1]))["streams"]))' "$tmp/verify.json")
	# the stream also holds the run's podtrail_key and closing checkpoint
	[ "$got" = "$((events + 2))" ] || { echo "nats run $r: $got of $events events (+2) in the stream" >&2; exit 1; }
done
cat "$tmp/results.txt" | sed 's/^/# run: /'
awk -v ev="$events" '
	{ n[$1]++; t[$1, n[$1]] = $2; c[$1, n[$1]] = $3; r[$1, n[$1]] = $4; v[$1, n[$1]] = $5 }
	function med(a, p, k,   v, i, j, x) {
		for (i = 1; i <= k; i++) v[i] = a[p, i]
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
		return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
	}
	END {
		printf "%-28s %8s %10s %12s %10s %12s\n", "output (median of runs)", "seconds", "events/s", "CPU us/event", "peak RSS", "servers CPU"
		split("https nats", names, " ")
		for (i = 1; i <= 2; i++) {
			p = names[i]; k = n[p]
			T[p] = med(t, p, k); C[p] = med(c, p, k); R[p] = med(r, p, k); V[p] = med(v, p, k)
			printf "%-28s %8.3f %10.0f %12.2f %6.1f MiB %10.2f s\n", p, T[p], ev / T[p], C[p] * 1e6 / ev, R[p] / 1024, V[p]
		}
		printf "\nnats / https: %.2fx events/s, %.2fx CPU per event (target: no worse than https)\n",
		    T["https"] / T["nats"], C["nats"] / C["https"]
	}' "$tmp/results.txt"
