# tests/integration/auditd.sh - a private auditd whose plugin is
# podtrail, so podtrail sees events live (while /proc still has the
# processes). Never touches /etc/audit: its own config, log and plugin
# directory under $T. Source after common.sh; call need_audit first.

# auditd_start ARGS...: podtrail runs as the plugin with these arguments
auditd_start() {
	need_cmd auditd
	local cur
	cur=$(audit_status pid)
	[ -z "$cur" ] || [ "$cur" = 0 ] || skip "another audit daemon (pid $cur) is registered"
	AUDITD_DIR="$T/auditd"
	mkdir -p "$AUDITD_DIR/plugins.d"
	chmod 0750 "$AUDITD_DIR" "$AUDITD_DIR/plugins.d"
	cat >"$AUDITD_DIR/auditd.conf" <<CONF
local_events = yes
write_logs = yes
log_file = $AUDITD_DIR/audit.log
log_format = RAW
log_group = root
flush = NONE
freq = 0
max_log_file = 100
num_logs = 0
max_log_file_action = IGNORE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
q_depth = 20000
overflow_action = SYSLOG
plugin_dir = $AUDITD_DIR/plugins.d
name_format = NONE
CONF
	cat >"$AUDITD_DIR/plugins.d/podtrail.conf" <<CONF
active = yes
direction = out
path = $PODTRAIL
type = always
args = $*
format = string
CONF
	chmod 0640 "$AUDITD_DIR/auditd.conf" "$AUDITD_DIR/plugins.d/podtrail.conf"
	# 9>&-: auditd and its plugin must not inherit the audit lock
	auditd -c "$AUDITD_DIR" -n -s nochange >"$T/auditd.out" 2>&1 9>&- &
	AUDITD_PID=$!
	add_cleanup auditd_stop
	wait_for 20 _auditd_registered || {
		cat "$T/auditd.out" >&2
		fail "auditd did not register"
	}
}

_auditd_registered() { [ "$(audit_status pid)" = "$AUDITD_PID" ]; }

# auditd_stop: stop it (it stops its plugin) and check nobody is left
auditd_stop() {
	[ -n "${AUDITD_PID:-}" ] || return 0
	kill -TERM "$AUDITD_PID" 2>/dev/null || true
	wait "$AUDITD_PID" 2>/dev/null || true
	AUDITD_PID=
	local p
	p=$(audit_status pid)
	[ -z "$p" ] || [ "$p" = 0 ] || echo "warning: audit pid still $p" >&2
	return 0
}
