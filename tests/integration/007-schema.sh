#!/usr/bin/env bash
# The output matches its published JSON Schema: replayed real logs (with
# enrichment on: the processes are gone, so attribution says unknown)
# and podtrail's own events.
. "$top_srcdir/tests/integration/common.sh"

for f in raw enriched; do
	podtrail --source=file:"$FIXTURES/recorded/$f.log" \
		--output=file:"$T/$f.ndjson" --state-dir="$T/state" \
		--heartbeat-interval=0 2>/dev/null
done
# a heartbeat: keep stdin open past one interval
mkfifo "$T/in"
podtrail_exec --source=stdin --output=file:"$T/hb.ndjson" \
	--state-dir="$T/state-hb" --heartbeat-interval=1 <"$T/in" 2>/dev/null &
pid=$!
exec 3>"$T/in"
has_hb() { grep -q podtrail_heartbeat "$T/hb.ndjson" 2>/dev/null; }
wait_for 20 has_hb || fail "no heartbeat"
exec 3>&-
wait $pid || fail "podtrail failed at EOF"
check_schema "$T/raw.ndjson" "$T/enriched.ndjson" "$T/hb.ndjson" ||
	fail "output does not match doc/event.schema.json"
