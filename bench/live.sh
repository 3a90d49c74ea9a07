#!/usr/bin/env bash
# bench/live.sh - podtrail under real load, against the pace limit,
# auditd alone and auditd + laurel. Prints figures only; asserts nothing.
#
#   top_builddir=build bench/live.sh [SECONDS [RUNS [MODES]]]
#   MODES: any of "drain podtrail unicast auditd laurel" (default: all)
#   WRITERS=N (default: nproc)
#   NODES="quiet busy" (default: quiet): busy runs the same storm while
#   a CPU hog (stress-ng, else shell loops) at the writers' priority
#   keeps every core busy; runs are interleaved: run 1 quiet, run 1
#   busy, run 2 quiet...
#   RUN_FROM=K (default 1): number the runs from K, to add rounds to a
#   CSV in several sittings (the report pairs runs by number and node)
#
# Load: N writers (bench/storm.c) create, write one byte and unlink
# files in a watched directory as fast as the kernel allows. Every file
# must arrive as two events (nametype CREATE and DELETE), so the ground
# truth is exact: the writers' names. Collectors:
#   drain     bench/drain.c: only drains the multicast socket (the pace limit)
#   podtrail  multicast, correlation on, HTTPS (gzip) to tests/receiver.py
#   unicast   the same, registered as the audit daemon (the kernel makes
#             the writers wait instead of dropping: no loss by design)
#   auditd    a private auditd writing its log
# Every collector runs with backlog_limit 8192 (Debian's audit.rules).
#   laurel    the same auditd with the laurel plugin (private config)
# Raw rows go to bench/out/live.csv (appended), a table and ratios to
# stdout, the plot to bench/out/live.png when gnuplot is installed.
# Holds the audit lock only while one collector runs.
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
: "${top_builddir:=$top_srcdir/build}"
export top_srcdir top_builddir
PODTRAIL=$top_builddir/podtrail
export PODTRAIL
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
. "$top_srcdir/tests/integration/auditd.sh"

SECS=${1:-20}
RUNS=${2:-1}
MODES=${3:-drain podtrail unicast auditd laurel}
WRITERS=${WRITERS:-$(nproc)}
OUT=${BENCH_OUT:-$top_srcdir/bench/out}
CSV=$OUT/live.csv
need_root
need_cmd auditctl cc
mkdir -p "$OUT"
NODES=${NODES:-quiet}
HEADER="date,run,mode,writers,seconds,files,files_per_s,expected,delivered,missing,kernel_lost,cpu_s,us_per_event,peak_rss_kib,node,loss_events,ring_peak_kib,ring_behind"
[ -s "$CSV" ] || echo "$HEADER" >"$CSV"

cc -O2 -o "$T/drain" "$top_srcdir/bench/drain.c"
cc -O2 -o "$T/storm" "$top_srcdir/bench/storm.c"
chmod 0755 "$T"
make_certs
RECV_PORT=$(free_port)
recv_mode ok

# ---- the audit lock, per collector run -----------------------------
LOCKED=0 EN0= BL0= WT0=
lock_audit() {
	{ exec 9>/run/lock/podtrail-audit.lock; } 2>/dev/null || exec 9>/tmp/podtrail-audit.lock
	flock -w 900 9 || fail "could not take the audit lock"
	LOCKED=1
	EN0=$(audit_status enabled) BL0=$(audit_status backlog_limit)
	WT0=$(audit_status backlog_wait_time)
	[ "$EN0" = 2 ] && skip "audit rules are locked (enabled 2)"
	local p
	p=$(audit_status pid)
	[ -z "$p" ] || [ "$p" = 0 ] || skip "an audit daemon (pid $p) is registered"
	auditctl -e 1 >/dev/null
	# every collector gets the backlog Debian's audit.rules sets (-b 8192;
	# the kernel's default is 64); the wait stays as configured
	auditctl -b 8192 >/dev/null
}
unlock_audit() {
	[ "$LOCKED" = 1 ] || return 0
	_audit_restore
	auditctl -b "$BL0" >/dev/null 2>&1
	[ -n "$WT0" ] && auditctl --backlog_wait_time "$WT0" >/dev/null 2>&1
	auditctl -e "$EN0" >/dev/null 2>&1
	flock -u 9
	exec 9>&-
	LOCKED=0
}
add_cleanup unlock_audit

# ---- collectors ------------------------------------------------------
CPIDS=()	# the collector's processes (CPU and RSS are summed)
cpu_ticks() {
	local p s=0
	for p in "${CPIDS[@]}"; do
		s=$((s + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$s"
}
peak_rss() {
	local p s=0
	for p in "${CPIDS[@]}"; do
		s=$((s + $(awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
	done
	echo "$s"
}

laurel_conf() {	# laurel_conf DIR: laurel as a plugin of DIR's auditd
	mkdir -p "$1/laurel"
	chown _laurel "$1/laurel" 2>/dev/null || true
	cat >"$1/laurel.toml" <<CONF
directory = "$1/laurel"
user = "_laurel"
statusreport-period = 0
[auditlog]
file = "audit.log"
size = 4000000000
generations = 2
[translate]
universal = false
user-db = false
[enrich]
pid = true
container = true
script = true
CONF
	cat >"$1/plugins.d/laurel.conf" <<CONF
active = yes
direction = out
path = /usr/sbin/laurel
type = always
args = --config $1/laurel.toml
format = string
CONF
	chmod 0640 "$1/laurel.toml" "$1/plugins.d/laurel.conf"
}

registered() { [ "$(audit_status pid)" = "$1" ]; }
COLLECTOR_PID=
start_collector() {	# start_collector MODE DIR
	local mode=$1 d=$2
	CPIDS=()
	case $mode in
	drain)
		"$T/drain" 16777216 >"$d/drain.out" 2>"$d/drain.err" 9>&- &
		COLLECTOR_PID=$!
		wait_for 10 grep -q ready "$d/drain.err" || fail "drain did not start"
		CPIDS=("$COLLECTOR_PID")
		;;
	podtrail | unicast)
		local src=netlink
		[ "$mode" = unicast ] && src=netlink-unicast
		"$PODTRAIL" --source=$src --state-dir="$d/state" \
			--output="https://127.0.0.1:$RECV_PORT/ingest" \
			--ca-file="$T/pki/ca.crt" --heartbeat-interval=0 \
			--enrich=yes --proc-connector=yes --log-level=info \
			--metrics-file="$d/metrics.prom" --metrics-interval=1 \
			${PODTRAIL_ARGS:-} 2>"$d/podtrail.log" 9>&- &
		COLLECTOR_PID=$!
		wait_for 20 grep -q "reading audit records" "$d/podtrail.log" ||
			fail "podtrail did not start: $(cat "$d/podtrail.log")"
		CPIDS=("$COLLECTOR_PID")
		# PERF_OUT=FILE: profile podtrail during the run (perf record
		# -g; PERF_ARGS replaces -g, e.g. "--call-graph dwarf")
		if [ -n "${PERF_OUT:-}" ]; then
			perf record ${PERF_ARGS:--g} -o "$PERF_OUT" -p "$COLLECTOR_PID" >/dev/null 2>&1 9>&- &
			PERF_PID=$!
		fi
		;;
	auditd | laurel)
		need_cmd auditd
		auditd_conf "$d/auditd" flush=INCREMENTAL_ASYNC freq=50 max_log_file=10000
		[ "$mode" = laurel ] && { need_cmd laurel; laurel_conf "$d/auditd"; }
		auditd -c "$d/auditd" -n -s nochange >"$d/auditd.out" 2>&1 9>&- &
		COLLECTOR_PID=$!
		wait_for 20 registered "$COLLECTOR_PID" ||
			fail "auditd did not register: $(cat "$d/auditd.out")"
		CPIDS=("$COLLECTOR_PID")
		if [ "$mode" = laurel ]; then
			wait_for 20 pgrep -P "$COLLECTOR_PID" || fail "laurel did not start"
			CPIDS+=($(pgrep -P "$COLLECTOR_PID"))
		fi
		;;
	esac
}

PERF_PID=
stop_collector() {
	[ -z "$PERF_PID" ] || { kill -INT "$PERF_PID" 2>/dev/null; wait "$PERF_PID" || true; PERF_PID=; }
	[ -n "$COLLECTOR_PID" ] || return 0
	kill -TERM "$COLLECTOR_PID" 2>/dev/null
	wait "$COLLECTOR_PID" 2>/dev/null
	COLLECTOR_PID=
}
add_cleanup stop_collector

# delivered MODE DIR: distinct (name, CREATE|DELETE) pairs the collector kept
delivered() {
	local f
	case $1 in
	drain) echo "-"; return ;;
	podtrail | unicast) f=$RECV_STORE ;;
	auditd) f=$2/auditd/audit.log ;;
	laurel) f=$2/auditd/laurel/audit.log ;;
	esac
	"$PYTHON3" - "$f" "$KEY" <<'PY'
import gzip, re, sys
# raw audit log and laurel: name="wI_N" ... nametype=X; podtrail's
# canonical JSON: "name":"wI_N","nametype":"X" (keys sorted)
pat = re.compile(rb'"?name"?[=:]"(w\d+_\d+)"[^}\n]*?"?nametype"?[=:]"?(CREATE|DELETE)')
seen = set()
# podtrail's store: the gzip'd request bodies as they came (--store-gzip)
with open(sys.argv[1], "rb") as f:
    opener = gzip.open if f.read(2) == b"\x1f\x8b" else open
with opener(sys.argv[1], "rb") as f:
    for line in f:
        if b"w" not in line:
            continue
        for m in pat.finditer(line):
            seen.add(m.groups())
print(len(seen))
PY
}

# the busy node's CPU hog: one spinner per core, at the writers' nice
HOG_PIDS=()
start_hog() {
	local i
	if command -v stress-ng >/dev/null; then
		stress-ng --cpu "$(nproc)" --cpu-method loop --quiet 9>&- &
		HOG_PIDS=($!)
	else
		for i in $(seq 1 "$(nproc)"); do
			sh -c 'while :; do :; done' 9>&- &
			HOG_PIDS+=($!)
		done
	fi
}
stop_hog() {
	[ "${#HOG_PIDS[@]}" -gt 0 ] || return 0
	kill "${HOG_PIDS[@]}" 2>/dev/null
	wait "${HOG_PIDS[@]}" 2>/dev/null || true	# killed: status 143
	HOG_PIDS=()
}
add_cleanup stop_hog

# loss_events MODE: podtrail's podtrail_loss events by cause, "cause:count;..."
loss_events() {
	case $1 in podtrail | unicast) ;; *) echo "-"; return ;; esac
	"$PYTHON3" - "$RECV_STORE" <<'PY'
import gzip, json, sys
with open(sys.argv[1], "rb") as f:
    opener = gzip.open if f.read(2) == b"\x1f\x8b" else open
n = {}
with opener(sys.argv[1], "rb") as f:
    for line in f:
        if b"podtrail_loss" in line:
            ev = json.loads(line)
            n[ev["cause"]] = n.get(ev["cause"], 0) + 1
print(";".join("%s:%d" % kv for kv in sorted(n.items())) or "none")
PY
}

# wait until the output stops growing (podtrail: the receiver's store)
settle() {
	local f=$1 last=-1 now i
	for i in $(seq 1 120); do
		now=$(stat -c %s "$f" 2>/dev/null || echo 0)
		[ "$now" = "$last" ] && return 0
		last=$now
		sleep 1
	done
}

run_one() {	# run_one RUN MODE NODE
	local run=$1 mode=$2 node=${3:-quiet} d t0 t1 lost0 lost1 files secs exp del miss cpu rss tck loss ring
	d=$T/$mode.$node.$run
	mkdir -p "$d/w"
	chmod 0777 "$d/w"
	KEY=$(audit_key "live_${mode}_$run")
	# the receiver stores bodies as they came: its CPU is the aggregator's,
	# not the node's, and here it would take the writers' CPUs
	case $mode in podtrail | unicast) : >"$RECV_STORE"; [ -n "$RECV_PID" ] || start_receiver --store-gzip ;; esac
	lock_audit
	auditctl -w "$d/w" -p wa -k "$KEY" >/dev/null
	start_collector "$mode" "$d"
	lost0=$(audit_status lost)
	[ "$node" = busy ] && start_hog
	t0=$(cpu_ticks)
	for i in $(seq 1 "$WRITERS"); do
		(cd "$d/w" && exec "$T/storm" "$i" "$SECS" >"$d/storm.$i" 9>&-) &
	done
	wait $(jobs -p | grep -v -e "^$COLLECTOR_PID\$" -e "^${RECV_PID:-x}\$" -e "^${PERF_PID:-x}\$" \
		$(printf -- '-e ^%s$ ' "${HOG_PIDS[@]}")) 2>/dev/null || true
	stop_hog
	case $mode in
	podtrail | unicast) settle "$RECV_STORE" ;;
	auditd) settle "$d/auditd/audit.log" ;;
	laurel) settle "$d/auditd/laurel/audit.log" ;;
	drain) sleep 2 ;;
	esac
	t1=$(cpu_ticks)
	rss=$(peak_rss)
	# how far behind podtrail's loop fell: the drain's ring at its fullest
	ring=$(sed -n 's/^podtrail_ring_peak_bytes //p' "$d/metrics.prom" 2>/dev/null || true)
	ring=${ring:+$((ring / 1024))}
	# how often it fell an eighth of the ring behind (the gzip then moves)
	behind=$(sed -n 's/^podtrail_ring_behind //p' "$d/metrics.prom" 2>/dev/null || true)
	lost1=$(audit_status lost)
	stop_collector
	unlock_audit
	case $mode in
	podtrail | unicast)
		grep -E "lost|overflow|dropped" "$d/podtrail.log" | tail -4 | sed 's/^/# /' || true ;;
	esac
	files=$(cat "$d"/storm.* | awk '{ n += $1 } END { print n }')
	secs=$(cat "$d"/storm.* | awk '{ if ($2 > s) s = $2 } END { print s }')
	exp=$((files * 2))
	del=$(delivered "$mode" "$d")
	loss=$(loss_events "$mode")
	[ "$mode" = drain ] && note "drain: $(cat "$d/drain.out")"
	tck=$(getconf CLK_TCK)
	awk -v date="$(date -u +%FT%TZ)" -v run="$run" -v mode="$mode" \
	    -v w="$WRITERS" -v s="$secs" -v files="$files" -v ex="$exp" \
	    -v del="$del" -v lost=$((lost1 - lost0)) -v c=$((t1 - t0)) \
	    -v tck="$tck" -v rss="$rss" -v node="$node" -v loss="$loss" \
	    -v ring="${ring:--}" -v behind="${behind:--}" 'BEGIN {
		cpu = c / tck
		d = (del == "-") ? ex : del
		printf "%s,%d,%s,%d,%.2f,%d,%.0f,%d,%s,%s,%d,%.2f,%.1f,%d,%s,%s,%s,%s\n",
		    date, run, mode, w, s, files, files / s, ex, del,
		    (del == "-") ? "-" : ex - del, lost, cpu,
		    d ? cpu * 1e6 / d : 0, rss, node, loss, ring, behind }' | tee -a "$CSV"
	[ -n "${KEEP:-}" ] || rm -rf "$d"
}

START=$(date -u +%FT%TZ)
echo "# $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r), $WRITERS writers, ${SECS}s"
echo "$HEADER"
RUN_FROM=${RUN_FROM:-1}
for run in $(seq "$RUN_FROM" $((RUN_FROM + RUNS - 1))); do
	for node in $NODES; do
		for mode in $MODES; do
			run_one "$run" "$mode" "$node"
		done
	done
done
stop_receiver || true	# its status is the receiver's SIGTERM
"$top_srcdir/bench/live-report.sh" "$CSV" "$OUT" "$START"
