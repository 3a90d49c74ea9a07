# tests/integration/auditd.sh - a private auditd whose plugin is
# podtrail, so podtrail sees events live (while /proc still has the
# processes). Never touches /etc/audit: its own config, log and plugin
# directory under $T. Source after common.sh; call need_audit first.
# bench/ uses it too: this is the one place that writes auditd.conf.

# auditd_conf DIR [NAME=VALUE...]: DIR/auditd.conf for a private auditd
# writing DIR/audit.log (RAW) and running the plugins of DIR/plugins.d;
# each NAME=VALUE replaces (or adds) a setting
auditd_conf() {
	local dir=$1 kv
	shift
	mkdir -p "$dir/plugins.d"
	chmod 0750 "$dir" "$dir/plugins.d"
	cat >"$dir/auditd.conf" <<CONF
local_events = yes
write_logs = yes
log_file = $dir/audit.log
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
plugin_dir = $dir/plugins.d
name_format = NONE
CONF
	for kv in "$@"; do
		if grep -q "^${kv%%=*} = " "$dir/auditd.conf"; then
			sed -i "s|^${kv%%=*} = .*|${kv%%=*} = ${kv#*=}|" "$dir/auditd.conf"
		else
			echo "${kv%%=*} = ${kv#*=}" >>"$dir/auditd.conf"
		fi
	done
	chmod 0640 "$dir/auditd.conf"
}

# auditd_run DIR: start auditd on DIR's configuration and wait until it
# is the registered audit daemon ($AUDITD_PID); stopped at exit
auditd_run() {
	need_cmd auditd
	local cur
	cur=$(audit_status pid)
	[ -z "$cur" ] || [ "$cur" = 0 ] || skip "another audit daemon (pid $cur) is registered"
	# 9>&-: auditd and its plugin must not inherit the audit lock
	auditd -c "$1" -n -s nochange >"$T/auditd.out" 2>&1 9>&- &
	AUDITD_PID=$!
	add_cleanup auditd_stop
	wait_for 20 _auditd_registered || {
		cat "$T/auditd.out" >&2
		fail "auditd did not register"
	}
}

# auditd_start ARGS...: podtrail runs as the plugin with these arguments,
# under $AUDITD_PLUGIN_WRAPPER (default: $PODTRAIL_WRAPPER, valgrind)
auditd_start() {
	local path=$PODTRAIL wrapper=${AUDITD_PLUGIN_WRAPPER-$PODTRAIL_WRAPPER}
	AUDITD_DIR="$T/auditd"
	auditd_conf "$AUDITD_DIR"
	if [ -n "$wrapper" ]; then
		# auditd drops a plugin's stderr and exit status: valgrind
		# reports to files that auditd_plugin_clean reads
		path=$AUDITD_DIR/podtrail-wrapped
		printf '#!/bin/sh\nexec %s --log-file=%s %s "$@"\n' "$wrapper" \
			"$T/plugin-valgrind.%p.log" "$PODTRAIL" >"$path"
		chmod 0750 "$path"
	fi
	cat >"$AUDITD_DIR/plugins.d/podtrail.conf" <<CONF
active = yes
direction = out
path = $path
type = always
args = $*
format = string
CONF
	chmod 0640 "$AUDITD_DIR/plugins.d/podtrail.conf"
	auditd_run "$AUDITD_DIR"
}

# auditd_plugin_clean: after the plugin has exited, fail on what the
# wrapper reported (nothing is written without errors: --quiet)
auditd_plugin_clean() {
	local f
	for f in "$T"/plugin-valgrind.*.log; do
		[ -s "$f" ] || continue
		cat "$f" >&2
		fail "the plugin's valgrind found errors ($f)"
	done
	return 0
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
