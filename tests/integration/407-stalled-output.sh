#!/usr/bin/env bash
# A reader that stops reading podtrail's stdout (a full pipe) must not
# make podtrail deaf to SIGTERM: with the pipe full and several MiB
# waiting, SIGTERM stops it within its flush deadline (5 s), exit 1
# with the bytes it could not write logged, the chain state saved, and
# what did get through is whole lines. With a reader that keeps up, the
# same input comes out complete (no stall, exit 0).
. "$top_srcdir/tests/integration/common.sh"

# N synthetic events on stdout (~1.1 KiB of output each)
gen() {
	awk -v n="$1" 'BEGIN {
		for (i = 1; i <= n; i++) {
			t = sprintf("msg=audit(1700000000.%03d:%d):", i % 1000, i)
			printf "type=SYSCALL %s arch=c000003e syscall=2 success=yes exit=3 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=%d auid=0 uid=0 gid=0 euid=0 comm=\"w\" exe=\"/bin/w\" key=\"k\"\n", t, 100 + i
			printf "type=PATH %s item=0 name=\"/tmp/stall/f%d\" inode=%d dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE\n", t, i, i
			printf "type=EOE %s\n", t
		}
	}'
}

# a reader that keeps up, through a pipe: everything arrives, exit 0
gen 2000 | (podtrail_exec --source=stdin --output=- --state-dir="$T/s1" \
	--enrich=no --heartbeat-interval=0 2>"$T/ok.log") | cat >"$T/ok.ndjson"
[ "${PIPESTATUS[1]}" = 0 ] || fail "with a reader that keeps up: exit ${PIPESTATUS[1]} ($(cat "$T/ok.log"))"
[ "$(grep -c '"type":"audit"' "$T/ok.ndjson")" = 2000 ] ||
	fail "with a reader that keeps up: $(grep -c '"type":"audit"' "$T/ok.ndjson") of 2000 events"

# a reader that takes 64 KiB and then stops reading (but keeps the pipe open)
mkfifo "$T/out"
(exec 3<"$T/out"; head -c 65536 <&3 >"$T/got"; exec sleep 600) &
R=$!
add_cleanup "kill $R 2>/dev/null"
gen 8000 >"$T/in"
podtrail_exec --source=stdin --output=- --state-dir="$T/s2" --enrich=no \
	--heartbeat-interval=0 <"$T/in" >"$T/out" 2>"$T/stall.log" &
P=$!
add_cleanup "kill -9 $P 2>/dev/null"
# stalled: the reader has its 64 KiB, and podtrail has read well past
# what its output buffer may hold (4 MiB of output is ~1.8 MB of input)
# and waits for the reader, no longer reading its input
in_pos() { awk '$1 == "pos:" { print $2 }' /proc/$P/fdinfo/0 2>/dev/null; }
past_cap() { [ "$(stat -c %s "$T/got")" = 65536 ] && [ "$(in_pos)" -gt 1500000 ]; }
wait_for 30 past_cap || fail "no stall: reader $(stat -c %s "$T/got") bytes, input at $(in_pos)"
[ "$(in_pos)" -lt "$(stat -c %s "$T/in")" ] || fail "podtrail read all its input: the stall did not hold it back"
start=$SECONDS
kill -TERM $P
rc=0
wait_for 20 sh -c "! kill -0 $P" || fail "SIGTERM with a stalled reader: still running after 20 s"
wait $P || rc=$?
took=$((SECONDS - start))
[ "$rc" = 1 ] || fail "exit status $rc, want 1 (data not written): $(cat "$T/stall.log")"
grep -q "output stalled: [0-9]* bytes not written" "$T/stall.log" ||
	fail "the loss is not logged: $(cat "$T/stall.log")"
grep -q "^next " "$T/s2/chain" && grep -q "^clean 1" "$T/s2/chain" ||
	fail "chain state not saved cleanly: $(cat "$T/s2/chain")"
# what got through is the start of the stream: whole events
[ "$(head -c 2 "$T/got")" = '{"' ] || fail "output does not start with an event"
[ "$(head -n 1 "$T/got" | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["seq"])')" = 1 ] ||
	fail "the first line is not event seq 1"
note "stalled reader: SIGTERM obeyed in ${took}s, $(grep -o 'output stalled: [0-9]* bytes' "$T/stall.log")"
exit 0
