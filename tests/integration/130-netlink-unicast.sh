#!/usr/bin/env bash
# Unicast: podtrail registers as the audit daemon, receives records,
# unregisters on SIGTERM, and refuses while another daemon holds the pid.
. "$top_srcdir/tests/integration/common.sh"
need_audit
[ "$(audit_status pid)" = 0 ] || skip "an audit daemon is registered (pid $(audit_status pid))"
KEY=$(audit_key w)
mkdir -p "$T/w"
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null

OUT=$T/out.json
$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$(mktemp -d -p "$T")" --source=netlink-unicast --output="file:$OUT" \
	--heartbeat-interval=1 2>"$T/err" &
PID=$!
add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 20 sh -c "[ \"\$(auditctl -s | awk '\$1 == \"pid\" { print \$2 }')\" = $PID ]" ||
	{ cat "$T/err"; fail "podtrail did not register (pid $(audit_status pid))"; }
note "ok: registered as pid $PID"

echo x >"$T/w/file"
wait_for 20 sh -c "grep -F '\"key\":\"$KEY\"' '$OUT' | grep -qF '$T/w/file'" ||
	{ cat "$T/err"; fail "no event received over unicast"; }
note "ok: received"
hb_backlog() { grep '"type":"podtrail_heartbeat"' "$OUT" | grep -q '"backlog"'; }
wait_for 20 hb_backlog ||
	fail "no heartbeat with the backlog"
note "ok: heartbeat with backlog"

# a second one must refuse, with a clear message
if $PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$(mktemp -d -p "$T")" --source=netlink-unicast --output=- \
	>/dev/null 2>"$T/err2"; then
	fail "second unicast reader did not refuse"
fi
grep -q "another audit daemon (pid $PID) is registered" "$T/err2" ||
	{ cat "$T/err2"; fail "refusal does not name the registered pid"; }
note "ok: refused while pid $PID holds it"
# --force skips podtrail's own check; the kernel still will not
# replace a live daemon, and that must be said just as clearly
if $PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$(mktemp -d -p "$T")" --source=netlink-unicast --force \
	--output=- >/dev/null 2>"$T/err3"; then
	fail "--force replaced a live audit daemon"
fi
grep -q "kernel refused" "$T/err3" || { cat "$T/err3"; fail "unclear --force refusal"; }
note "ok: --force refused by the kernel"
[ "$(audit_status pid)" = "$PID" ] || fail "the refusal disturbed the registration"

kill -TERM "$PID"
wait "$PID" || fail "podtrail exited with $?"
[ "$(audit_status pid)" = 0 ] || fail "audit pid still $(audit_status pid) after exit"
grep -q "unregistered" "$T/err" || fail "no unregistration logged"
note "ok: unregistered on SIGTERM"
exit 0
