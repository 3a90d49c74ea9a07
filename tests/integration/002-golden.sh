#!/usr/bin/env bash
# Golden files: the JSON made from real recorded logs, RAW and ENRICHED
# log formats and the auditd plugin stream, must match what was reviewed.
# Regenerate after an intended change with: REGEN=1 make check TESTS=...
. "$top_srcdir/tests/integration/common.sh"

rec="$FIXTURES/recorded"
run() {
	# $1 source spec, stdin from $2 (or /dev/null)
	podtrail --source="$1" --output=- --node=fixture --enrich=no \
		--state-dir="$T/state" <"${2:-/dev/null}" |
		"$PYTHON3" "$top_srcdir/tests/integration/normalize.py"
}

check() {
	local name=$1 golden="$GOLDEN/$1.ndjson"
	if [ "${REGEN:-0}" = 1 ]; then
		cp "$T/$name.out" "$golden"
		note "regenerated $golden"
	fi
	diff -u "$golden" "$T/$name.out" >"$T/$name.diff" ||
		{ head -40 "$T/$name.diff"; fail "$name differs from its golden file"; }
	note "$name: $(wc -l <"$T/$name.out") events match"
}

run "file:$rec/raw.log" >"$T/raw.out"
check raw
run "file:$rec/enriched.log" >"$T/enriched.out"
check enriched
# the plugin stream of the same run as raw.log must give the same JSON
run stdin "$rec/stream.txt" >"$T/stream.out"
cmp "$T/raw.out" "$T/stream.out" || fail "stdin stream and raw log differ"
note "plugin stream == raw log"
