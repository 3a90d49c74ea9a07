#!/usr/bin/env bash
# bench/attribution.sh - how many short-lived writers in real containers
# podtrail attributes to the right container, on a node with many of
# them. Prints figures only.
#
#   bench/attribution.sh [CONTAINERS [PROCS_PER_S [SECONDS]]]
#   CONNECTOR=no bench/attribution.sh ...   (without the process connector)
#   ATTR_MODES="none rules podtrail none:150 ..." bench/attribution.sh ...
#   ATTR_BASELINE=none|rules|auditd bench/attribution.sh ...
#   ATTR_PERF=PREFIX bench/attribution.sh ...  (perf record -a -g per round)
#
# ATTR_MODES: rounds run one after the other on the same containers,
# each MODE or MODE:PROCS_PER_S (default: podtrail, or ATTR_BASELINE).
# The baselines are the same writers without podtrail, for the pace
# the machine makes at all: none (no audit rule, audit state untouched),
# rules (enabled 1 and the watch rule, no audit daemon) or auditd (the
# rule and a private auditd logging, no plugin); they print the writes
# made, the pace and the machine's CPU only. ATTR_PERF writes
# PREFIX.R.MODE.data, the whole machine over round R's writers' window.
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

MODES=${ATTR_MODES:-${ATTR_BASELINE:-podtrail}}
for MODE in $MODES; do
	case ${MODE%%:*} in
	none | rules | auditd | podtrail) ;;
	*) fail "a mode is none, rules, auditd or podtrail[:PROCS_PER_S], not $MODE" ;;
	esac
done
need_containers
need_cmd flock
[ -z "${ATTR_PERF:-}" ] || need_cmd perf

# the container's shell: c (its number) and n (containers) come first;
# /ctl/goR holds round R's start and end (realtime µs) and the period
# between two children of one container (µs), the
# fifo /ctl/napN (never written) makes `read -t` a sleep without a process
read -r -d '' LOOP <<'SH' || true
exec 3<>"/ctl/nap$c"
nap() { read -t "$1" x <&3; }
r=0
while :; do
	r=$((r + 1))
	while [ ! -e "/ctl/go$r" ]; do nap 0.05; done
	read t0 t1 p <"/ctl/go$r"
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
done
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
		"c=$c n=$C; $LOOP" "$e:/cache" "$T/ctl:/ctl"
	ctr_forget_cgroup "kubepods/burstable/pod$U"
	ctr_run_detached "att$$-$c" "$T/b$c" 7>&- ||
		fail "container $c did not start: $(cat "$T/att$$-$c.err")"
done
note "$C containers up in $((SECONDS - t_setup)) s"

# round R MODE: podtrail (or a baseline) up, the writers go for SECS,
# the figures printed, the audit state restored, the files removed
round() {
local R=$1 MODE=${2%%:*} RATE=$RATE RT=$T/r$1
[ "$MODE" = "$2" ] || RATE=${2#*:}
mkdir -p "$RT"
echo "== round $R: $MODE, $RATE/s"
PT= AUDITD_PID=
if [ "$MODE" != none ]; then
	need_audit
	BL0=$(audit_status backlog_limit)
	add_cleanup 'auditctl -b "$BL0" >/dev/null 2>&1'
	auditctl -b 8192 >/dev/null
	KW=$(audit_key w)
	auditctl -w "$KR/pods" -p wa -k "$KW" >/dev/null
	lost0=$(audit_status lost)
fi
cat >"$RT/podtrail.conf" <<CONF
source = stdin
output = file:$RT/out.ndjson
kubelet_root = $KR
proc_connector = ${CONNECTOR:-yes}
state_dir = $RT/state
metrics_file = $RT/metrics.prom
metrics_interval = 1
CONF
cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
if [ "$MODE" = auditd ]; then
	auditd_conf "$RT/auditd"
	auditd_run "$RT/auditd"
elif [ "$MODE" = podtrail ]; then
	auditd_start -c "$RT/podtrail.conf"
	wait_for 20 test -s "$RT/metrics.prom" || fail "podtrail wrote no metrics"
	PT=$(cat "/proc/$AUDITD_PID/task/$AUDITD_PID/children")
	PT=${PT%% *}
	[ -n "$PT" ] || fail "no plugin under auditd"
fi
sleep 1.5
[ -z "$PT" ] || cp "$RT/metrics.prom" "$RT/m.before"
cpu0=0 acpu0=0
[ -z "$PT" ] || cpu0=$(cpu "$PT")
[ -z "$AUDITD_PID" ] || acpu0=$(cpu "$AUDITD_PID")
load0=$(cut -d' ' -f1-3 /proc/loadavg)

t0=$((${EPOCHREALTIME/./} + 1000000))
t1=$((t0 + SECS * 1000000))
echo "$t0 $t1 $((C * 1000000 / RATE))" >"$T/ctl/go$R.new"
mv "$T/ctl/go$R.new" "$T/ctl/go$R"
while [ ${EPOCHREALTIME/./} -lt "$t0" ]; do sleep 0.02; done
if [ -n "${ATTR_PERF:-}" ]; then
	# the writers' window only: perf starts at go and stops at its end
	perf record -a -g -F 199 -o "$ATTR_PERF.$R.$MODE.data" -- sleep "$SECS" \
		>"$T/perf.out" 2>&1 7>&- 9>&- &
	PERF_PID=$!
	add_cleanup 'kill -INT "$PERF_PID" 2>/dev/null; wait "$PERF_PID" 2>/dev/null'
fi
stat0=$(head -1 /proc/stat)
# sample the metrics each second until every write has an event
made() { find "$KR/pods" -type f -name 'c*-*' | wc -l; }
events() { grep -c '"name":"/cache/c' "$RT/out.ndjson" || true; }
k=0 stat1=
until [ ${EPOCHREALTIME/./} -gt $((t1 + 1000000)) ]; do
	r=$((t1 - ${EPOCHREALTIME/./}))
	# the machine's CPU is read at t1 itself
	if [ -z "$stat1" ] && [ "$r" -lt 1000000 ]; then
		[ "$r" -le 0 ] || sleep "0.$(printf %06d "$r")"
		stat1=$(head -1 /proc/stat)
	else
		sleep 1
	fi
	[ -z "$PT" ] || cp "$RT/metrics.prom" "$RT/m.$((k += 1))"
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
[ -z "${ATTR_PERF:-}" ] || wait "$PERF_PID" 2>/dev/null || true
w=$(made)
cpu1=0 acpu1=0 hwm=0 lost1=0 lost0=${lost0:-0}
if [ -n "$PT" ]; then
	end=$((SECONDS + 120))
	while [ "$(events)" -lt "$w" ] && [ $SECONDS -lt $end ]; do
		sleep 1
		cp "$RT/metrics.prom" "$RT/m.$((k += 1))"
	done
	sleep 1.5
	cp "$RT/metrics.prom" "$RT/m.after"
	cpu1=$(cpu "$PT")
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$PT/status")
fi
[ -z "$AUDITD_PID" ] || acpu1=$(cpu "$AUDITD_PID")
if [ "$MODE" != none ]; then
	lost1=$(audit_status lost)
	auditd_stop
	# the audit state is back as it was: let others have it now
	_audit_restore
	auditctl -b "$BL0" >/dev/null 2>&1
	_audit_enabled_before=
	exec 9>&-
fi

"$PYTHON3" - "$RT" "$KR" "${KW:-}" "$C" "$RATE" "$SECS" "$((cpu1 - cpu0))" \
	"$((acpu1 - acpu0))" "$(getconf CLK_TCK)" "$hwm" "$((lost1 - lost0))" \
	"$load0" "$load1" "$MODE" "$stat0" "${stat1:-$(head -1 /proc/stat)}" \
	"${ids[@]}" <<'PY'
import glob, json, os, re, sys
(t, kr, kw, nc, rate, secs, cpu, acpu, hz, hwm, lost, load0,
 load1, mode, stat0, stat1) = sys.argv[1:17]
ids = sys.argv[17:]
hz = float(hz)
mtimes = []
made = set()
for c, ui in enumerate(ids, 1):
    d = f"{kr}/pods/{ui.split('/')[0]}/volumes/kubernetes.io~empty-dir/cache"
    for f in os.listdir(d):
        made.add(f"/cache/{f}")
        mtimes.append(os.stat(f"{d}/{f}").st_mtime)
span = max(mtimes) - min(mtimes) if len(mtimes) > 1 else 0
print(f"mode: {mode}; containers: {nc} (one pod each), asked {rate} procs/s for {secs} s")
print(f"writes made: {len(made)} in {span:.1f} s ({len(made) / max(span, 1e-9):.0f}/s)")
per_s = {}
for m in mtimes:
    per_s[int(m)] = per_s.get(int(m), 0) + 1
full = sorted(per_s.values())[1:-1] or [0]
print(f"writes per whole second: min {full[0]}, median {full[len(full) // 2]}, max {full[-1]}")
# the machine's CPU over the writers' window, all CPUs (/proc/stat)
a = [int(x) for x in stat0.split()[1:]]
b = [int(x) for x in stat1.split()[1:]]
d = [y - x for x, y in zip(a, b)]
tot = max(1, sum(d[:8]))
print(f"machine CPU over the window: user {100 * (d[0] + d[1]) / tot:.0f}%, "
      f"system {100 * (d[2] + d[5] + d[6]) / tot:.0f}%, idle {100 * (d[3] + d[4]) / tot:.0f}%, "
      f"{1e6 * (tot - d[3] - d[4]) / float(hz) / max(1, len(made)):.0f} µs busy CPU per write")
print(f"load before {load0}, after {load1}")
if mode != "podtrail":
    if mode != "none":
        print(f"kernel lost: {lost}; auditd CPU {float(acpu) / float(hz):.2f} s")
    sys.exit(0)
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
ev = len(seen)
pct = lambda x: f"{100.0 * x / max(1, ev):.3f}%"
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
keys = [k for k in after if re.match(r"(proc_|lookup_|pconn_|pid_)", k)]
print(f"{'counter':24} {'before':>10} {'peak':>10} {'after':>10}")
for k in sorted(keys):
    peak = max(s.get(k, 0) for s in samples)
    print(f"{k:24} {before.get(k, 0):10.0f} {peak:10.0f} {after.get(k, 0):10.0f}")
PY
find "$KR/pods" -type f -name 'c*-*' -delete
}

R=0
for MODE in $MODES; do
	round $((R += 1)) "$MODE"
done

# the containers go while the bench lock is still held
t_down=$SECONDS
_ctr_cleanup
_ctr_ids=() _ctr_cgroups=()
note "containers deleted in $((SECONDS - t_down)) s"
