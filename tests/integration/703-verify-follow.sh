#!/usr/bin/env bash
# podtrail-verify --follow on a directory that grows: findings are
# printed as they appear (a tampered line appended later, a file added
# later), and SIGINT ends with the full report and exit status 1.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

V=$PODTRAIL_VERIFY
mkdir -p "$T/store"
gen_audit 1 30 | podtrail --source=stdin --node=node-f --state-dir="$T/state" \
	--output="file:$T/all.ndjson" 2>/dev/null
head -n 10 "$T/all.ndjson" >"$T/store/a.ndjson"
"$V" --follow "$T/store" >"$T/out" 2>&1 &
VPID=$!
add_cleanup "kill $VPID 2>/dev/null; wait $VPID 2>/dev/null"
# the rest arrives later: an edited event in the same file, then a new file
sed -n 11,20p "$T/all.ndjson" | sed '5s#/etc/file#/etc/fiXe#' >>"$T/store/a.ndjson"
out_has() { grep -q -- "$1" "$T/out"; }
wait_for 30 out_has "stream node-f/.*: hash mismatch (edited): seq 15" ||
	{ cat "$T/out"; fail "the edited line was not reported as it arrived"; }
# a line written in two parts waits for its newline
line21=$(sed -n 21p "$T/all.ndjson")
printf '%s' "${line21:0:100}" >"$T/store/b.ndjson"
sed -n '22,$p' "$T/all.ndjson" | sed '3s#/etc/file#/etc/fiYe#' >"$T/store/c.ndjson"
# seq 21 is incomplete: what follows it waits in the reorder window
printf '%s\n' "${line21:100}" >>"$T/store/b.ndjson"
wait_for 30 out_has "hash mismatch (edited): seq 24 at .*c.ndjson:3" ||
	{ cat "$T/out"; fail "the new file was not read"; }
kill -INT "$VPID"
rc=0
wait "$VPID" || rc=$?
[ "$rc" = 1 ] || { cat "$T/out"; fail "--follow ended with $rc, not 1"; }
grep -q "^stream node-f/.*: 3[0-9] events, seq 1\.\.3[0-9].*FAILED" "$T/out" ||
	{ cat "$T/out"; fail "no final report"; }
grep -q "invalid lines" "$T/out" && { cat "$T/out"; fail "the split line was read in halves"; }
note "--follow: findings as they appear, final report on SIGINT"
