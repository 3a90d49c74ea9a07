#!/usr/bin/env bash
# bench/attribution.sh - how many short-lived writers in real containers
# podtrail attributes to the right container, on a node with many of
# them. Prints figures only.
#
#   bench/attribution.sh [CONTAINERS [PROCS_PER_S [SECONDS]]]
#   CONNECTOR=no bench/attribution.sh ...   (without the process connector)
#
# CONTAINERS runc containers (default 200), one pod each (its own pod
# UID, kubepods cgroup and emptyDir at /cache), stay up for the whole
# run: a busybox shell that, once the host says go, starts
# `sh -c 'echo y > /cache/cN-I'` children at PROCS_PER_S / CONTAINERS
# a second (default 2000 in all) for SECONDS (default 30), paced on
# EPOCHREALTIME and staggered across the containers (a shell behind
# its schedule starts the next child at once). Every child exits within
# a millisecond of its write. A private auditd runs podtrail as its
# plugin (backlog_limit 8192 while it runs, as Debian's audit.rules).
#
# Printed: writes made (files created) and the pace reached (from their
# mtimes), podtrail's events for them, attributed to the right container
# and host path / a wrong one / unknown, the kernel's lost count,
# podtrail's CPU (utime + stime over the run) and peak RSS (VmHWM), and
# the process cache's counters (metrics_file) before, at their peak and
# after. Takes /run/lock/podtrail-bench.lock from the first container's
# start to the last one's deletion, and the audit lock only while
# auditd runs. Every container, cgroup, rule and daemon is removed at
# exit, on failure and on ctrl-C too. Needs root, runc, busybox-static,
# auditd, python3 and a built tree (top_builddir, default ./build).
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
: "${top_builddir:=$top_srcdir/build}"
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/containers.sh"
. "$top_srcdir/tests/integration/auditd.sh"

C=${1:-200}
RATE=${2:-2000}
SECS=${3:-30}
# µs between two children of one container
P=$((C * 1000000 / RATE))

need_containers
need_cmd flock

# the container's shell: c (its number), n (containers), p (period, µs)
# come first; /ctl/go holds the start and end (realtime µs), the fifo
# /ctl/napN (never written) makes `read -t` a sleep without a process
read -r -d '' LOOP <<'SH' || true
exec 3<>"/ctl/nap$c"
nap() { read -t "$1" x <&3; }
while [ ! -e /ctl/go ]; do nap 0.05; done
read t0 t1 </ctl/go
next=$((t0 + p * (c - 1) / n)); i=0
while :; do
	now=${EPOCHREALTIME/./}
	[ "$now" -lt "$t1" ] || break
	d=$((next - now))
	if [ "$d" -gt 0 ]; then
		u=00000$((d % 1000000))
		nap "$((d / 1000000)).${u: -6}"
	fi
	sh -c "echo y > /cache/c$c-$i"
	i=$((i + 1))
	next=$((next + p))
done
while :; do nap 3600; done
SH

{ exec 7>/run/lock/podtrail-bench.lock; } 2>/dev/null ||
	exec 7>/tmp/podtrail-bench.lock
flock -w 1800 7 || fail "could not take the bench lock"

KR="$T/kubelet"
mkdir -p "$T/ctl"
chmod 0755 "$T" "$T/ctl"
ctr_rootfs "$T/rootfs"
ids=()
t_setup=$SECONDS
for c in $(seq 1 "$C"); do
	U=$(ctr_uid)
	id=$(ctr_id)
	ids+=("$U/$id")
	e="$KR/pods/$U/volumes/kubernetes.io~empty-dir/cache"
	mkdir -p "$e"
	chmod 0777 "$e"
	mkfifo -m 0666 "$T/ctl/nap$c"
	ctr_bundle "$T/b$c" "$T/rootfs" "/kubepods/burstable/pod$U/$id" \
		"c=$c n=$C p=$P; $LOOP" "$e:/cache" "$T/ctl:/ctl"
	ctr_forget_cgroup "kubepods/burstable/pod$U"
	ctr_run_detached "att$$-$c" "$T/b$c" 7>&- ||
		fail "container $c did not start: $(cat "$T/att$$-$c.err")"
done
note "$C containers up in $((SECONDS - t_setup)) s"

need_audit
BL0=$(audit_status backlog_limit)
add_cleanup 'auditctl -b "$BL0" >/dev/null 2>&1'
auditctl -b 8192 >/dev/null
cat >"$T/podtrail.conf" <<CONF
source = stdin
output = file:$T/out.ndjson
kubelet_root = $KR
proc_connector = ${CONNECTOR:-yes}
state_dir = $T/state
metrics_file = $T/metrics.prom
metrics_interval = 1
CONF
KW=$(audit_key w)
auditctl -w "$KR/pods" -p wa -k "$KW" >/dev/null
lost0=$(audit_status lost)
auditd_start -c "$T/podtrail.conf"
wait_for 20 test -s "$T/metrics.prom" || fail "podtrail wrote no metrics"
PT=$(cat "/proc/$AUDITD_PID/task/$AUDITD_PID/children")
PT=${PT%% *}
[ -n "$PT" ] || fail "no plugin under auditd"
cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
sleep 1.5
cp "$T/metrics.prom" "$T/m.before"
cpu0=$(cpu "$PT") acpu0=$(cpu "$AUDITD_PID")
load0=$(cut -d' ' -f1-3 /proc/loadavg)

t0=$((${EPOCHREALTIME/./} + 1000000))
t1=$((t0 + SECS * 1000000))
echo "$t0 $t1" >"$T/ctl/go.new"
mv "$T/ctl/go.new" "$T/ctl/go"
# sample the metrics each second until every write has an event
made() { find "$KR/pods" -type f -name 'c*-*' | wc -l; }
events() { grep -c '"name":"/cache/c' "$T/out.ndjson" || true; }
k=0
until [ ${EPOCHREALTIME/./} -gt $((t1 + 1000000)) ]; do
	sleep 1
	cp "$T/metrics.prom" "$T/m.$((k += 1))"
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
w=$(made)
end=$((SECONDS + 120))
while [ "$(events)" -lt "$w" ] && [ $SECONDS -lt $end ]; do
	sleep 1
	cp "$T/metrics.prom" "$T/m.$((k += 1))"
done
sleep 1.5
cp "$T/metrics.prom" "$T/m.after"
cpu1=$(cpu "$PT") acpu1=$(cpu "$AUDITD_PID")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$PT/status")
lost1=$(audit_status lost)
auditd_stop
# the audit state is back as it was: let others have it now
_audit_restore
auditctl -b "$BL0" >/dev/null 2>&1
_audit_enabled_before=
exec 9>&-

"$PYTHON3" - "$T" "$KR" "$KW" "$C" "$RATE" "$SECS" "$((cpu1 - cpu0))" \
	"$((acpu1 - acpu0))" "$(getconf CLK_TCK)" "$hwm" "$((lost1 - lost0))" \
	"$load0" "$load1" "${ids[@]}" <<'PY'
import glob, json, os, re, sys
(t, kr, kw, nc, rate, secs, cpu, acpu, hz, hwm, lost, load0,
 load1) = sys.argv[1:14]
ids = sys.argv[14:]
hz = float(hz)
mtimes = []
made = set()
for c, ui in enumerate(ids, 1):
    d = f"{kr}/pods/{ui.split('/')[0]}/volumes/kubernetes.io~empty-dir/cache"
    for f in os.listdir(d):
        made.add(f"/cache/{f}")
        mtimes.append(os.stat(f"{d}/{f}").st_mtime)
right = wrong_ctr = wrong_path = no_path = host = unknown = dup = 0
seen = set()
for line in open(f"{t}/out.ndjson"):
    ev = json.loads(line)
    key = ev.get("key")
    if not (key == kw or (isinstance(key, list) and kw in key)):
        continue
    for p in ev["paths"]:
        n = p.get("name") or ""
        if p.get("nametype") != "CREATE" or not n.startswith("/cache/c"):
            continue
        if n in seen:
            dup += 1
            continue
        seen.add(n)
        c = int(n[8:].split("-")[0])
        uid, cid = ids[c - 1].split("/")
        ctr = ev.get("container")
        want = (f"{kr}/pods/{uid}/volumes/kubernetes.io~empty-dir/cache/"
                + n[7:])
        if ev.get("attribution") == "unknown":
            unknown += 1
        elif ctr is None:
            host += 1
        elif ctr.get("id") != cid:
            wrong_ctr += 1
        elif p.get("host_path") is None:
            no_path += 1
        elif p.get("host_path") != want:
            wrong_path += 1
        else:
            right += 1

def metrics(path):
    m = {}
    for line in open(path):
        f = line.split()
        if len(f) == 2 and not line.startswith("#"):
            m[f[0].replace("podtrail_", "", 1)] = float(f[1])
    return m

before = metrics(f"{t}/m.before")
after = metrics(f"{t}/m.after")
samples = [metrics(f) for f in glob.glob(f"{t}/m.[0-9]*")] + [after]
span = max(mtimes) - min(mtimes) if len(mtimes) > 1 else 0
ev = len(seen)
pct = lambda x: f"{100.0 * x / max(1, ev):.3f}%"
print(f"containers: {nc} (one pod each), asked {rate} procs/s for {secs} s")
print(f"writes made: {len(made)} in {span:.1f} s ({len(made) / max(span, 1e-9):.0f}/s)")
per_s = {}
for m in mtimes:
    per_s[int(m)] = per_s.get(int(m), 0) + 1
full = sorted(per_s.values())[1:-1] or [0]
print(f"writes per whole second: min {full[0]}, median {full[len(full) // 2]}, max {full[-1]}")
print(f"events seen: {ev} (missing {len(made - seen)}, duplicates {dup}, kernel lost {lost})")
print(f"attributed right: {right} ({pct(right)}, of writes made "
      f"{100.0 * right / max(1, len(made)):.3f}%)")
print(f"wrong container:  {wrong_ctr} ({pct(wrong_ctr)})")
print(f"right container, wrong host_path: {wrong_path} ({pct(wrong_path)})")
print(f"right container, no host_path: {no_path} ({pct(no_path)})")
print(f"host (no container): {host} ({pct(host)})")
print(f"unknown:          {unknown} ({pct(unknown)})")
c = float(cpu) / hz
print(f"podtrail CPU: {c:.2f} s ({1e6 * c / max(1, ev):.0f} µs/write), "
      f"peak RSS {int(hwm) / 1024:.1f} MiB; auditd CPU {float(acpu) / hz:.2f} s")
print(f"load before {load0}, after {load1}")
keys = [k for k in after if re.match(r"(proc_|lookup_|pconn_|pid_)", k)]
print(f"{'counter':24} {'before':>10} {'peak':>10} {'after':>10}")
for k in sorted(keys):
    peak = max(s.get(k, 0) for s in samples)
    print(f"{k:24} {before.get(k, 0):10.0f} {peak:10.0f} {after.get(k, 0):10.0f}")
PY

# the containers go while the bench lock is still held
t_down=$SECONDS
_ctr_cleanup
_ctr_ids=() _ctr_cgroups=()
note "containers deleted in $((SECONDS - t_down)) s"
