#!/usr/bin/env bash
# bench/corpus.sh OUT.log [FILES] [MOUNTS] - record a real audit log from
# this machine's kernel: FILES create+write+unlink under a watched
# directory and MOUNTS tmpfs mount/umount pairs in a private mount
# namespace, written by a private auditd in RAW format.
# Needs root and kernel audit. Restores every kernel setting it changes.
set -euo pipefail
out=$(realpath -m "$1")
files=${2:-20000}
mounts=${3:-2000}
[ "$(id -u)" = 0 ] || { echo "corpus.sh: needs root" >&2; exit 77; }
command -v auditd >/dev/null || { echo "corpus.sh: needs auditd" >&2; exit 77; }

exec 9>/run/lock/podtrail-audit.lock
flock -w 600 9
st() { auditctl -s | awk -v k="$1" '$1 == k { print $2 }'; }
[ "$(st enabled)" = 2 ] && { echo "corpus.sh: audit is locked" >&2; exit 77; }
[ "$(st pid)" = 0 ] || { echo "corpus.sh: an audit daemon is running (pid $(st pid))" >&2; exit 77; }
en0=$(st enabled); bl0=$(st backlog_limit)
d=$(mktemp -d /tmp/podtrail-corpus.XXXXXX)
key_w=podtrail_bench_$$_w key_m=podtrail_bench_$$_m
apid=""
cleanup() {
	set +e
	auditctl -W "$d/w" -p wa -k "$key_w" >/dev/null 2>&1
	auditctl -d always,exit -F arch=b64 -S mount -S umount2 -k "$key_m" >/dev/null 2>&1
	auditctl -e "$en0" -b "$bl0" >/dev/null 2>&1
	if [ -n "$apid" ]; then
		kill -TERM "$apid" 2>/dev/null; wait "$apid" 2>/dev/null
	fi
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -p "$d/w" "$d/m" "$d/plugins" "$d/etc"
cp /etc/audit/auditd.conf "$d/etc/auditd.conf"
chmod 700 "$d/etc" "$d/plugins"
setc() { sed -i -E "s|^[[:space:]]*$1[[:space:]]*=.*|$1 = $2|" "$d/etc/auditd.conf"
	grep -qE "^$1 = " "$d/etc/auditd.conf" || echo "$1 = $2" >>"$d/etc/auditd.conf"; }
setc log_file "$d/audit.log"; setc log_format RAW; setc log_group root
setc write_logs yes; setc flush INCREMENTAL_ASYNC; setc plugin_dir "$d/plugins"
setc max_log_file 4000; setc max_log_file_action IGNORE
setc space_left 2; setc space_left_action IGNORE
setc admin_space_left 1; setc admin_space_left_action IGNORE
setc disk_full_action IGNORE; setc disk_error_action SYSLOG
setc verify_email no; setc q_depth 20000; setc overflow_action SYSLOG
setc name_format NONE
auditd -c "$d/etc" -n -s nochange 2>"$d/auditd.err" &
apid=$!
for _ in $(seq 200); do [ "$(st pid)" = "$apid" ] && break; sleep 0.05; done
[ "$(st pid)" = "$apid" ] || { cat "$d/auditd.err"; exit 1; }
auditctl -b 16384 -e 1 >/dev/null
auditctl -w "$d/w" -p wa -k "$key_w" >/dev/null
auditctl -a always,exit -F arch=b64 -S mount -S umount2 -k "$key_m" >/dev/null

python3 - "$d/w" "$files" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = os.path.join(d, "f%d" % i)
    fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"x" * 64)
    os.close(fd)
    os.unlink(p)
PY
unshare -m --propagation private sh -c "
	i=0
	while [ \$i -lt $mounts ]; do
		mount -t tmpfs bench $d/m && umount $d/m
		i=\$((i + 1))
	done"
auditctl -W "$d/w" -p wa -k "$key_w" >/dev/null
auditctl -d always,exit -F arch=b64 -S mount -S umount2 -k "$key_m" >/dev/null
kill -TERM "$apid"; wait "$apid" || true; apid=""
cp "$d/audit.log" "$out"
echo "corpus: $(grep -c 'type=SYSCALL' "$out") syscall events, $(wc -l <"$out") lines -> $out"
