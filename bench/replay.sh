#!/usr/bin/env bash
# bench/replay.sh - replay speed of podtrail against its peers, in one run:
#   podtrail --source=file:CORPUS --output=file:/dev/null
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

# best of N: wall seconds and peak RSS (KiB) via GNU time
measure() {
	local name=$1 best="" rss=0 t m
	shift
	for _ in $(seq "$runs"); do
		rm -rf "$out/laurel"; mkdir -p "$out/laurel"
		/usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/$name.err" </dev/null ||
			{ cat "$out/$name.err"; return 1; }
		read -r t m <"$out/time.txt"
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
		[ "$m" -gt "$rss" ] && rss=$m
	done
	echo "$name $best $rss"
}
laurel_run() { laurel --config "$out/laurel.toml" <"$corpus"; }

{
	measure podtrail "$out/build/podtrail" --source=file:"$corpus" --output=file:/dev/null \
		--enrich="$enrich" --state-dir="$out/state"
	measure laurel bash -c "laurel --config '$out/laurel.toml' <'$corpus'"
	measure auparse_floor "$out/auparse_floor" "$corpus"
} >"$out/results.txt"

awk -v ev="$events" '
	{ t[$1] = $2; r[$1] = $3 }
	END {
		printf "%-14s %10s %12s %10s\n", "program", "seconds", "events/s", "peak RSS"
		for (p in t) order[++n] = p
		split("podtrail laurel auparse_floor", names, " ")
		for (i = 1; i <= 3; i++) {
			p = names[i]
			printf "%-14s %10.3f %12.0f %7.1f MiB\n", p, t[p], ev / t[p], r[p] / 1024
		}
		printf "\npodtrail / laurel:        %.2fx events/s (target >= 4x)\n", t["laurel"] / t["podtrail"]
		printf "podtrail / auparse floor: %.2fx events/s (target >= 0.6x)\n", t["auparse_floor"] / t["podtrail"]
		printf "podtrail peak RSS:        %.1f MiB (target <= 16 MiB)\n", r["podtrail"] / 1024
	}' "$out/results.txt"
