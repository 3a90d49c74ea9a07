#!/usr/bin/env bash
# bench/netlink-storm.sh - pace of podtrail's multicast source under a
# create/unlink storm on a watched directory. Prints figures only.
#
#   PODTRAIL=build/podtrail bench/netlink-storm.sh [SECONDS] [WRITERS]
# Needs root and kernel audit; takes the shared audit lock.
set -euo pipefail
secs=${1:-5}
writers=${2:-2}
: "${PODTRAIL:=$(dirname "$0")/../build/podtrail}"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
T=$(mktemp -d /tmp/podtrail-bench.XXXXXX)
KEY=podtrail_t_bench_$$
exec 9>/run/lock/podtrail-audit.lock
flock -w 600 9
en=$(auditctl -s | awk '$1 == "enabled" { print $2 }')
[ "$en" = 2 ] && { echo "rules locked"; exit 77; }
cleanup() {
	set +e
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	auditctl -W "$T/w" -p wa -k "$KEY" >/dev/null 2>&1
	auditctl -e "$en" >/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/w"
auditctl -e 1 >/dev/null
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null
lost0=$(auditctl -s | awk '$1 == "lost" { print $2 }')

${BENCH_WRAPPER:-} "$PODTRAIL" --state-dir="$T/state" --source=netlink --output="file:$T/out.json" --heartbeat-interval=0 \
	2>"$T/err" &
PID=$!
until grep -q "reading audit records" "$T/err"; do sleep 0.05; done
t0=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
for i in $(seq 1 "$writers"); do
	python3 - "$T/w" "$i" "$secs" >"$T/files.$i" <<'PY' &
import os, sys, time
d, w, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.monotonic() + secs
n = 0
while time.monotonic() < end:
    p = os.path.join(d, "w%s_%d" % (w, n))
    open(p, "w").close()
    os.unlink(p)
    n += 1
print(n)
PY
done
wait $(jobs -p | grep -v "^$PID\$") 2>/dev/null || true
files=$(cat "$T"/files.* | paste -sd+ - | bc)
# let podtrail drain, then stop it (it settles gaps at exit)
sleep 3
t1=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
kill "$PID"; wait "$PID"; PID=
lost1=$(auditctl -s | awk '$1 == "lost" { print $2 }')
events=$(grep -c "\"key\":\"$KEY\"" "$T/out.json" || true)
missing=$(python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] == "podtrail_loss" and e["cause"] == "serial_gap":
        n += e["count"]
print(n)' "$T/out.json")
tck=$(getconf CLK_TCK)
echo "writers=$writers seconds=$secs files=$files files_per_s=$((files / secs))"
echo "events_with_key=$events serials_missing=$missing kernel_lost_delta=$((lost1 - lost0))"
awk -v c="$((t1 - t0))" -v t="$tck" -v e="$events" 'BEGIN {
	printf "podtrail_cpu_s=%.2f us_per_event=%.1f\n", c / t, e ? c / t * 1e6 / e : 0 }'
