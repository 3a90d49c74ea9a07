#!/usr/bin/env bash
# bench/verify.sh - podtrail-verify on a store of many signed streams:
#   chaingen (bench/chaingen.c, podtrail's own chain and checkpoint code)
#   makes STREAMS streams of EVENTS events in all, a checkpoint every
#   1000 events, as an aggregator stores them: batches of 500 lines of
#   one stream, interleaved, reordered within a window of 64 batches;
#   then podtrail-verify (an -O2 build) reads the file on one core
#   (taskset), and /usr/bin/time gives its CPU and peak RSS.
# The node's signing cost per event: chaingen's own timing of the chain
# and of the checkpoint work (Merkle leaves, roots, Ed25519 signatures).
# Not a test: no pass/fail.
#   bench/verify.sh [--events N] [--streams N] [--runs N] [--keep]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/bench/out"
events=10000000
streams=100
runs=3
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--events) events=$2; shift ;;
	--streams) streams=$2; shift ;;
	--runs) runs=$2; shift ;;
	--keep) keep=1 ;;
	*) echo "usage: $0 [--events N] [--streams N] [--runs N] [--keep]" >&2; exit 2 ;;
	esac
	shift
done
mkdir -p "$out"
if [ ! -x "$out/build/podtrail-verify" ] || [ -n "$(find "$top/src" "$top/include" "$top/bench/chaingen.c" -newer "$out/build/podtrail-verify" -print -quit)" ]; then
	(cd "$top" && autoreconf -fi >/dev/null 2>&1)
	mkdir -p "$out/build"
	(cd "$out/build" && { [ -f Makefile ] || "$top/configure" CFLAGS="-O2 -g" >/dev/null; } &&
		make -j"$(nproc)" podtrail-verify libpodtrail.a >/dev/null)
fi
# chaingen links the library with the same flags and libraries
make -s -C "$out/build" -f Makefile -f - chaingen <<MK
chaingen: libpodtrail.a $top/bench/chaingen.c
	\$(CC) \$(DEFS) \$(DEFAULT_INCLUDES) \$(AM_CPPFLAGS) \$(DEP_CFLAGS) \$(CFLAGS) -o \$@ $top/bench/chaingen.c libpodtrail.a \$(DEP_LIBS) -lpthread
MK
work=$(mktemp -d "${TMPDIR:-/tmp}/podtrail-bench-verify.XXXXXX")
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
store="$work/store.ndjson"
echo "# machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$out/build/chaingen" "$work/state" "$streams" "$events" 1000 500 64 1 >"$store" 2>"$work/gen.err"
cat "$work/gen.err"
lines=$(wc -l <"$store")
echo "# store: $lines lines, $(du -h "$store" | cut -f1), $streams streams"
# the node's cost without checkpoints, for comparison
"$out/build/chaingen" "$work/state0" "$streams" "$((events / 10))" 0 500 64 1 >/dev/null 2>"$work/gen0.err"
sed 's/^/# no checkpoints: /' "$work/gen0.err"
rm -rf "$work/state" "$work/state0"
for i in $(seq "$runs"); do
	/usr/bin/time -f "%e %U %S %M" -o "$work/time" \
		taskset -c 0 "$out/build/podtrail-verify" --json "$store" >"$work/report.json" || {
		echo "verify failed" >&2; head -c 2000 "$work/report.json" >&2; exit 1; }
	read -r wall user sys rss <"$work/time"
	awk -v n="$lines" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v i="$i" 'BEGIN {
		printf "run %d: %.1f s wall, %.1f s CPU, %.0f lines/s (wall), %.0f lines/s (CPU), peak RSS %.1f MiB\n",
		    i, w, u + s, n / w, n / (u + s), r / 1024 }'
done
python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("# report: ok=%s, %d streams, %d checkpoints" % (r["ok"], len(r["streams"]),
      sum(s["checkpoints"] for s in r["streams"])))
PY
