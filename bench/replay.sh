#!/usr/bin/env bash
# bench/replay.sh - replay speed of podtrail against its peers, in one run:
#   podtrail --source=file:CORPUS --output=file:/dev/null (--enrich as given)
#   podtrail full pipeline: the same replay with correlation on, batched,
#     gzip'd and sent over HTTPS to tests/receiver.py on 127.0.0.1 with
#     certificates made now; timed until it exits with every event
#     delivered (the receiver shares the machine: it stores the gzip'd
#     bodies as they come and they are checked after the clock stops;
#     its CPU is not counted in podtrail's CPU seconds, but it is in
#     the wall time)
#   laurel (Debian), reading the same file on stdin, writing its JSON log
#   auparse_floor: bare libauparse feed + interpret every field
# Prints events/s, ratios and peak RSS. Not a test: no pass/fail.
#   bench/replay.sh [--corpus FILE] [--runs N] [--enrich yes|no]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/bench/out"
corpus="$out/corpus.log"
runs=3
enrich=no
while [ $# -gt 0 ]; do
	case "$1" in
	--corpus) corpus=$2; shift ;;
	--runs) runs=$2; shift ;;
	--enrich) enrich=$2; shift ;;
	*) echo "usage: $0 [--corpus FILE] [--runs N] [--enrich yes|no]" >&2; exit 2 ;;
	esac
	shift
done
mkdir -p "$out"

# an optimised build, apart from the sanitizer build the tests use
if [ ! -x "$out/build/podtrail" ] || [ -n "$(find "$top/src" "$top/include" -newer "$out/build/podtrail" -print -quit)" ]; then
	(cd "$top" && autoreconf -fi >/dev/null 2>&1)
	mkdir -p "$out/build"
	(cd "$out/build" && "$top/configure" CFLAGS="-O2 -g" >/dev/null && make -j"$(nproc)" podtrail >/dev/null)
fi
cc -O2 -o "$out/auparse_floor" "$top/bench/auparse_floor.c" -lauparse -laudit
[ -s "$corpus" ] || "$top/bench/corpus.sh" "$corpus"
command -v laurel >/dev/null || { echo "laurel not installed (apt-get install laurel)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl not installed" >&2; exit 1; }
[ -x "$out/build/podtrail-verify" ] || (cd "$out/build" && make podtrail-verify >/dev/null)

# the aggregator for the full pipeline: tests/receiver.py over HTTPS
tmp=$(mktemp -d /tmp/podtrail-replay.XXXXXX)
recv_pid=
cleanup() {
	[ -z "$recv_pid" ] || { kill "$recv_pid" 2>/dev/null; wait "$recv_pid" 2>/dev/null || true; }
	rm -rf "$tmp"
}
trap cleanup EXIT
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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo ok >"$tmp/recv.mode"
: >"$tmp/recv.gz"
python3 "$top/tests/receiver.py" --port "$port" --cert "$tmp/server.crt" \
	--key "$tmp/server.key" --store "$tmp/recv.gz" --control "$tmp/recv.mode" \
	--store-gzip &
recv_pid=$!
for _ in $(seq 100); do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
	sleep 0.1
done

events=$("$out/auparse_floor" "$corpus" | awk '{print $1}')
lines=$(wc -l <"$corpus")
echo "corpus: $corpus: $lines lines, $events events ($(du -h "$corpus" | cut -f1))"
echo "machine: $(nproc) cpus, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

cat >"$out/laurel.toml" <<TOML
directory = "$out/laurel"
user = "root"
statusreport-period = 0
[auditlog]
file = "audit.log"
size = 10000000000
generations = 2
[enrich]
pid = true
container = true
TOML

# best of N: wall seconds, peak RSS (KiB) and CPU seconds via GNU time
# (the full pipeline must also have delivered every event)
measure() {
	local name=$1 best="" rss=0 cpu="" t m u s
	shift
	for _ in $(seq "$runs"); do
		rm -rf "$out/laurel" "$out/state"; mkdir -p "$out/laurel"
		: >"$tmp/recv.gz"
		/usr/bin/time -f "%e %M %U %S" -o "$out/time.txt" "$@" >/dev/null 2>"$out/$name.err" </dev/null ||
			{ cat "$out/$name.err"; return 1; }
		read -r t m u s <"$out/time.txt"
		if [ "$name" = full ]; then
			local got
			zcat "$tmp/recv.gz" >"$tmp/recv.ndjson"
			got=$(wc -l <"$tmp/recv.ndjson")
			[ "$got" -ge "$events" ] || { echo "full pipeline: $got of $events events delivered" >&2; cat "$out/$name.err" >&2; return 1; }
			# and the receiver's copy verifies as one unbroken chain
			"$out/build/podtrail-verify" "$tmp/recv.ndjson" >"$out/verify.txt" 2>&1 ||
				{ echo "full pipeline: the delivered chain does not verify" >&2; cat "$out/verify.txt" >&2; return 1; }
		fi
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then
			best=$t
			cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
		fi
		[ "$m" -gt "$rss" ] && rss=$m
	done
	echo "$name $best $rss $cpu"
}
laurel_run() { laurel --config "$out/laurel.toml" <"$corpus"; }

{
	measure podtrail "$out/build/podtrail" --source=file:"$corpus" --output=file:/dev/null \
		--enrich="$enrich" --state-dir="$out/state"
	measure full "$out/build/podtrail" --source=file:"$corpus" \
		--output="https://127.0.0.1:$port/ingest" --ca-file="$tmp/ca.crt" \
		--enrich=yes --heartbeat-interval=0 --state-dir="$out/state"
	measure laurel bash -c "laurel --config '$out/laurel.toml' <'$corpus'"
	measure auparse_floor "$out/auparse_floor" "$corpus"
} >"$out/results.txt"

awk -v ev="$events" -v enrich="$enrich" '
	{ t[$1] = $2; r[$1] = $3; c[$1] = $4 }
	END {
		printf "%-26s %8s %10s %8s %10s\n", "program", "seconds", "events/s", "CPU s", "peak RSS"
		split("podtrail full laurel auparse_floor", names, " ")
		label["podtrail"] = "podtrail (--enrich=" enrich ")"
		label["full"] = "podtrail full pipeline"
		label["laurel"] = "laurel"
		label["auparse_floor"] = "bare libauparse"
		for (i = 1; i <= 4; i++) {
			p = names[i]
			printf "%-26s %8.3f %10.0f %8.2f %6.1f MiB\n", label[p], t[p], ev / t[p], c[p], r[p] / 1024
		}
		printf "\n(full pipeline: replay, correlation, batches, gzip, spool, HTTPS to\n"
		printf " tests/receiver.py --store-gzip on 127.0.0.1, every event delivered and\n"
		printf " the chain verified; wall time includes the receiver, which shares the CPUs)\n\n"
		printf "podtrail / laurel:                %.2fx events/s (target >= 4x)\n", t["laurel"] / t["podtrail"]
		printf "podtrail / auparse floor:         %.2fx events/s (target >= 0.6x)\n", t["auparse_floor"] / t["podtrail"]
		printf "full pipeline / laurel:           %.2fx events/s (target >= 4x)\n", t["laurel"] / t["full"]
		printf "full pipeline / auparse floor:    %.2fx events/s (target: within 2x, >= 0.5x)\n", t["auparse_floor"] / t["full"]
		printf "podtrail peak RSS:                %.1f MiB (target <= 16 MiB)\n", r["podtrail"] / 1024
		printf "full pipeline peak RSS:           %.1f MiB\n", r["full"] / 1024
	}' "$out/results.txt"
