#!/usr/bin/env bash
# bench/corpus.sh OUT.log [FILES] [MOUNTS] - record a real audit log from
# this machine's kernel: FILES create+write+unlink under a watched
# directory and MOUNTS tmpfs mount/umount pairs in a private mount
# namespace, written by a private auditd in RAW format.
# Needs root and kernel audit. Restores every kernel setting it changes.
[ $# -ge 1 ] || { echo "usage: bench/corpus.sh OUT.log [FILES] [MOUNTS]" >&2; exit 2; }
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/auditd.sh"
out=$(realpath -m "$1")
files=${2:-20000}
mounts=${3:-2000}
need_root
need_cmd auditd
# the lock, `enabled` saved and restored, our keys removed at exit
need_audit
bl0=$(audit_status backlog_limit)
add_cleanup 'auditctl -b "$bl0" >/dev/null 2>&1'
key_w=$(audit_key w) key_m=$(audit_key m)
mkdir -p "$T/w" "$T/m"
auditd_conf "$T/auditd" flush=INCREMENTAL_ASYNC freq=50 max_log_file=4000
auditd_run "$T/auditd"
auditctl -b 16384 >/dev/null
auditctl -w "$T/w" -p wa -k "$key_w" >/dev/null
auditctl -a always,exit -F arch=b64 -S mount -S umount2 -k "$key_m" >/dev/null

"$PYTHON3" - "$T/w" "$files" <<'PY'
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
		mount -t tmpfs bench $T/m && umount $T/m
		i=\$((i + 1))
	done"
audit_del_key "$key_w"
audit_del_key "$key_m"
auditd_stop
cp "$T/auditd/audit.log" "$out"
echo "corpus: $(grep -c 'type=SYSCALL' "$out") syscall events, $(wc -l <"$out") lines -> $out"
