#!/usr/bin/env bash
# Multicast mode beside a real auditd (its own config and log file):
# podtrail does not take the audit pid, and both see the same serials.
. "$top_srcdir/tests/integration/common.sh"
need_audit
need_cmd auditd ausearch
[ "$(audit_status pid)" = 0 ] || skip "an audit daemon is already registered (pid $(audit_status pid))"
KEY=$(audit_key w)
mkdir -p "$T/w" "$T/plugins" "$T/log"
chmod 700 "$T/log"
cat >"$T/auditd.conf" <<CONF
local_events = yes
write_logs = yes
log_file = $T/log/audit.log
log_format = RAW
flush = INCREMENTAL_ASYNC
freq = 1
max_log_file = 100
max_log_file_action = IGNORE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
name_format = NONE
plugin_dir = $T/plugins
end_of_event_timeout = 2
CONF
chmod 600 "$T/auditd.conf"
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null

# -n: stay in the foreground; -s nochange: leave `enabled` to need_audit
auditd -n -s nochange -c "$T" >"$T/auditd.out" 2>&1 &
AD=$!
add_cleanup "kill $AD 2>/dev/null; wait $AD 2>/dev/null"
wait_for 20 sh -c "[ \"\$(auditctl -s | awk '\$1 == \"pid\" { print \$2 }')\" = $AD ]" ||
	{ cat "$T/auditd.out"; fail "auditd did not register"; }

OUT=$T/out.json
$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$(mktemp -d -p "$T")" --source=netlink --output="file:$OUT" \
	--heartbeat-interval=0 2>"$T/err" &
PID=$!
add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 20 grep -q "reading audit records" "$T/err" || { cat "$T/err"; fail "podtrail did not start"; }
[ "$(audit_status pid)" = "$AD" ] || fail "podtrail disturbed auditd's registration"

for i in $(seq 1 20); do echo x >"$T/w/f$i"; done
wait_for 30 grep -qF "$T/w/f20" "$OUT" || { cat "$T/err"; fail "podtrail missed events"; }
wait_for 30 grep -qF "$T/w/f20" "$T/log/audit.log" || fail "auditd missed events"

ours=$(py_ndjson "$OUT" "ev.get('key') == '$KEY' and ev['serial']" | sort -n)
theirs=$(ausearch -if "$T/log/audit.log" -k "$KEY" --raw 2>/dev/null |
	sed -n 's/.*msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort -un)
[ -n "$ours" ] || fail "no podtrail events with the key"
[ "$ours" = "$theirs" ] || { diff <(echo "$ours") <(echo "$theirs"); fail "serials differ"; }
note "ok: both saw the same $(echo "$ours" | wc -l) serials"

kill -TERM "$PID"
wait "$PID" || fail "podtrail exited with $?"
[ "$(audit_status pid)" = "$AD" ] || fail "auditd lost its registration"
kill -TERM "$AD"
wait "$AD" || true
wait_for 20 sh -c "[ \"\$(auditctl -s | awk '\$1 == \"pid\" { print \$2 }')\" = 0 ]" ||
	fail "auditd left its pid registered"
exit 0
