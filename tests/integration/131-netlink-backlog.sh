#!/usr/bin/env bash
# Unicast: podtrail raises the kernel's backlog_limit and may lower (never
# raise) backlog_wait_time while it runs, and restores both at exit.
. "$top_srcdir/tests/integration/common.sh"
need_audit
[ "$(audit_status pid)" = 0 ] || skip "an audit daemon is registered (pid $(audit_status pid))"
BL0=$(audit_status backlog_limit)
WT0=$(audit_status backlog_wait_time)
[ -n "$WT0" ] || skip "this kernel reports no backlog_wait_time"
add_cleanup "auditctl -b $BL0 >/dev/null 2>&1; auditctl --backlog_wait_time $WT0 >/dev/null 2>&1"
# a known baseline, as an operator would have configured it
auditctl -b 320 >/dev/null
auditctl --backlog_wait_time 15000 >/dev/null

registered() { [ "$(audit_status pid)" = "$1" ]; }
# run_podtrail LOG ARGS...: start unicast podtrail, wait for registration
run_podtrail() {
	local log=$1
	shift
	$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$(mktemp -d -p "$T")" \
		--source=netlink-unicast --output=- --heartbeat-interval=0 "$@" \
		>/dev/null 2>"$log" &
	PID=$!
	add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
	wait_for 20 registered "$PID" || { cat "$log"; fail "podtrail did not register"; }
	wait_for 20 grep -q "reading audit records" "$log" || fail "podtrail did not start"
}
stop() {
	kill -TERM "$PID"
	wait "$PID" || fail "podtrail exited with $?"
}

run_podtrail "$T/err1" --backlog-limit=4096 --backlog-wait-time=5000
[ "$(audit_status backlog_limit)" = 4096 ] || fail "backlog_limit is $(audit_status backlog_limit), not 4096"
[ "$(audit_status backlog_wait_time)" = 5000 ] || fail "backlog_wait_time is $(audit_status backlog_wait_time), not 5000"
note "ok: applied while running (limit 4096, wait 5000)"
stop
[ "$(audit_status backlog_limit)" = 320 ] || fail "backlog_limit not restored: $(audit_status backlog_limit)"
[ "$(audit_status backlog_wait_time)" = 15000 ] || fail "backlog_wait_time not restored: $(audit_status backlog_wait_time)"
note "ok: restored at exit (320, 15000)"

# a longer wait than the operator's is refused; 0 leaves the limit alone
run_podtrail "$T/err2" --backlog-limit=0 --backlog-wait-time=60000
[ "$(audit_status backlog_wait_time)" = 15000 ] || fail "backlog_wait_time raised to $(audit_status backlog_wait_time)"
[ "$(audit_status backlog_limit)" = 320 ] || fail "backlog_limit=0 changed the limit to $(audit_status backlog_limit)"
grep -q "never makes audited processes wait longer" "$T/err2" || { cat "$T/err2"; fail "no warning for a longer wait"; }
note "ok: a longer wait is refused, limit 0 leaves the limit"
stop
[ "$(audit_status backlog_wait_time)" = 15000 ] || fail "backlog_wait_time changed at exit"
[ "$(audit_status backlog_limit)" = 320 ] || fail "backlog_limit changed at exit"

# the default raises the limit to 8192
run_podtrail "$T/err3"
[ "$(audit_status backlog_limit)" = 8192 ] || fail "default backlog_limit is $(audit_status backlog_limit)"
stop
[ "$(audit_status backlog_limit)" = 320 ] || fail "default backlog_limit not restored"
note "ok: default limit 8192, restored"
exit 0
