#!/usr/bin/env bash
# Least privilege: once the netlink socket, the rules and the process
# connector are open, podtrail holds only the capabilities it still uses
# (effective = permitted = bounding), and with --user=nobody runs as
# uid 65534 and still sees events, with helper threads too: on netlink,
# in a replay and on stdin (the identity switch must come before any
# helper starts, or glibc aborts the process). The state dir is 0700; secrets that
# others can read are refused. priority_boost lowers the nice value at
# start, and without CAP_SYS_NICE only warns, once.
. "$top_srcdir/tests/integration/common.sh"
need_cmd capsh
need_audit

# capability bits, as in /proc/PID/status
CAP_DAC_READ_SEARCH=2 CAP_SYS_PTRACE=19 CAP_AUDIT_CONTROL=30 CAP_AUDIT_READ=37
mask() { local m=0 b; for b in "$@"; do m=$((m | (1 << b))); done; printf '%016x' $m; }
status() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

W="$T/watched"
mkdir -p "$W"
chmod 0755 "$T"
chmod 0777 "$W"
K=$(audit_key w)
auditctl -w "$W" -p wa -k "$K" >/dev/null

# run_one NAME ARGS...: start, wait for the privilege drop, check caps
run_one() {
	local name=$1
	shift
	podtrail_exec --source=netlink --state-dir="$T/$name.state" \
		--output=file:"$T/$name.ndjson" --heartbeat-interval=0 "$@" \
		2>"$T/$name.log" &
	PID=$!
	add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
	wait_for 20 grep -q 'privileges:' "$T/$name.log" || {
		cat "$T/$name.log"; fail "$name: no privilege drop"; }
}

want=$(mask $CAP_DAC_READ_SEARCH $CAP_SYS_PTRACE $CAP_AUDIT_CONTROL $CAP_AUDIT_READ)
# helper threads are off on a live source unless asked for
run_one root --helper-threads=yes
for f in CapEff CapPrm CapBnd; do
	[ "$(status $PID $f)" = "$want" ] || fail "root: $f $(status $PID $f), want $want"
done
[ "$(status $PID CapInh)" = 0000000000000000 ] || fail "inheritable caps left"
note "root: CapEff $(status $PID CapEff) = $(capsh --decode=$(status $PID CapEff) | sed 's/.*=//')"
[ "$(stat -c %a "$T/root.state")" = 700 ] || fail "state dir mode $(stat -c %a "$T/root.state")"
# priority_boost (default 10) lowered the nice value before the drop
ni0=$(ps -o ni= -p $$ | tr -d ' ')
want_ni=$((ni0 - 10 < -20 ? -20 : ni0 - 10))
[ "$(ps -o ni= -p $PID | tr -d ' ')" = "$want_ni" ] ||
	fail "root: nice $(ps -o ni= -p $PID), want $want_ni"
grep -q "priority_boost 10: nice $ni0 -> $want_ni" "$T/root.log" ||
	fail "root: priority_boost not logged: $(cat "$T/root.log")"
# helper threads (the netlink drain, the request builder) hold no
# capability at all, and run at the boosted priority
echo x >"$W/first"
wait_for 20 grep -q "$W/first" "$T/root.ndjson" || fail "root: no event for $W/first"
helpers=0
for t in /proc/$PID/task/*; do
	tid=${t##*/}
	[ "$tid" = "$PID" ] && continue
	helpers=$((helpers + 1))
	for f in CapEff CapPrm CapInh; do
		[ "$(status $PID/task/$tid $f)" = 0000000000000000 ] ||
			fail "helper thread $tid: $f $(status $PID/task/$tid $f)"
	done
	ni=$(ps -L -o tid=,ni= -p $PID | awk -v t="$tid" '$1 == t { print $2 }')
	[ "$ni" = "$want_ni" ] || fail "helper thread $tid: nice $ni, want $want_ni"
done
[ $helpers -ge 1 ] || fail "root: no helper thread after the first event"
note "root: $helpers helper thread(s), no capabilities"
kill $PID; wait $PID || fail "root run exited $?"

# without enrichment there is no /proc to read: only the audit caps
run_one noenrich --enrich=no
want2=$(mask $CAP_AUDIT_CONTROL $CAP_AUDIT_READ)
[ "$(status $PID CapEff)" = "$want2" ] || fail "no-enrich: CapEff $(status $PID CapEff), want $want2"
kill $PID; wait $PID || fail "no-enrich run exited $?"

# helper_tasks PID UID: every thread runs as UID; helpers hold nothing.
# Prints how many helpers there are.
helper_tasks() {
	local pid=$1 uid=$2 t tid n=0 f
	for t in /proc/$pid/task/*; do
		tid=${t##*/}
		[ "$(status $pid/task/$tid Uid | awk '{print $1, $2, $3, $4}')" = "$uid $uid $uid $uid" ] ||
			fail "thread $tid: Uid $(status $pid/task/$tid Uid), want $uid"
		[ "$tid" = "$pid" ] && continue
		n=$((n + 1))
		for f in CapEff CapPrm; do
			[ "$(status $pid/task/$tid $f)" = 0000000000000000 ] ||
				fail "helper thread $tid: $f $(status $pid/task/$tid $f)"
		done
	done
	echo $n
}

# as nobody: uid and gid switched, same capabilities, events still flow;
# helper threads start after the switch
run_one nobody --user=nobody --helper-threads=yes
[ "$(status $PID Uid | awk '{print $1, $2, $3, $4}')" = "65534 65534 65534 65534" ] ||
	fail "uid: $(status $PID Uid)"
[ "$(status $PID Groups)" = "" ] || fail "supplementary groups left: $(status $PID Groups)"
[ "$(status $PID CapEff)" = "$want" ] || fail "nobody: CapEff $(status $PID CapEff)"
[ "$(stat -c %U "$T/nobody.state")" = nobody ] || fail "state dir not handed over"
seen() { grep -q "$W/after-drop" "$T/nobody.ndjson"; }
touch "$W/after-drop"
wait_for 20 seen || fail "no event after switching to nobody"
[ "$(helper_tasks $PID 65534)" -ge 1 ] || fail "nobody: no helper thread after an event"
# AUDIT_GET still works (loss accounting): no warning about it
grep -q 'AUDIT_GET' "$T/nobody.log" && fail "AUDIT_GET failed: $(cat "$T/nobody.log")"
kill -USR1 $PID
wait_for 20 grep -q '"chain_persist_errors":0' "$T/nobody.log" || fail "chain cannot persist as nobody"
kill $PID; wait $PID || fail "nobody run exited $?"
note "nobody: uid 65534, CapEff $want, events flow, helper threads as nobody"

# a replay as nobody: helper threads by default (auto), same events as root
for who in root nobody; do
	u=; [ $who = nobody ] && u=--user=nobody
	rc=0
	podtrail --source=file:"$FIXTURES/recorded/raw.log" --output=file:"$T/replay-$who.ndjson" \
		--state-dir="$T/replay-$who.state" --heartbeat-interval=0 $u \
		>/dev/null 2>"$T/replay-$who.log" || rc=$?
	[ $rc = 0 ] || fail "replay as $who: exit $rc: $(cat "$T/replay-$who.log")"
done
grep -q 'privileges: uid 65534' "$T/replay-nobody.log" ||
	fail "replay as nobody: no switch: $(cat "$T/replay-nobody.log")"
n_root=$(wc -l <"$T/replay-root.ndjson")
[ "$n_root" -gt 100 ] || fail "replay as root: only $n_root events"
[ "$(wc -l <"$T/replay-nobody.ndjson")" = "$n_root" ] ||
	fail "replay as nobody: $(wc -l <"$T/replay-nobody.ndjson") events, as root $n_root"
note "replay as nobody: $n_root events, as root"

# stdin (an auditd plugin) with helper threads, as nobody: the parse
# worker runs as nobody without capabilities, events flow, EOF ends it
mkfifo "$T/in"
podtrail_exec --source=stdin --helper-threads=yes --user=nobody \
	--output=file:"$T/stdin.ndjson" --state-dir="$T/stdin.state" \
	--heartbeat-interval=0 <"$T/in" 2>"$T/stdin.log" &
PID=$!
add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
exec 8>"$T/in"
add_cleanup "exec 8>&-"
head -200 "$FIXTURES/recorded/raw.log" >&8
wait_for 20 test -s "$T/stdin.ndjson" || fail "stdin as nobody: no event: $(cat "$T/stdin.log")"
[ "$(helper_tasks $PID 65534)" -ge 1 ] || fail "stdin as nobody: no parse worker"
exec 8>&-
rc=0
wait $PID || rc=$?
[ $rc = 0 ] || fail "stdin as nobody: exit $rc: $(cat "$T/stdin.log")"
note "stdin as nobody: $(wc -l <"$T/stdin.ndjson") events, helper threads as nobody"

# secrets readable by others are refused
printf 'k3y' >"$T/hmac.key"
chmod 0644 "$T/hmac.key"
rc=0
podtrail --source=file:/dev/null --state-dir="$T/s2" --hmac-key-file="$T/hmac.key" \
	>"$T/refuse.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a world-readable key was accepted"
note "refused: $(tail -1 "$T/refuse.log")"

# without CAP_SYS_NICE priority_boost is a warning, once, and podtrail runs
rc=0
capsh --drop=cap_sys_nice -- -c 'exec "$@"' sh $PODTRAIL_WRAPPER "$PODTRAIL" \
	--source=file:/dev/null --output=file:/dev/null --state-dir="$T/s3" \
	--priority-boost=2 >"$T/nonice.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "without CAP_SYS_NICE: exit $rc: $(cat "$T/nonice.log")"
[ "$(grep -c 'priority_boost 2 not applied.*CAP_SYS_NICE' "$T/nonice.log")" = 1 ] ||
	fail "without CAP_SYS_NICE: no single warning: $(cat "$T/nonice.log")"
note "no CAP_SYS_NICE: $(grep priority_boost "$T/nonice.log")"
