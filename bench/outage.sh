#!/usr/bin/env bash
# bench/outage.sh - an aggregator outage under load: RATE events/s for
# OUTAGE seconds with the aggregator down, then it comes back. Prints
# podtrail's peak RSS, the spool's peak size, the time to drain, and
# podtrail-verify's verdict. Not part of `make check`; prints figures,
# asserts nothing about time.
#   top_builddir=build bench/outage.sh [OUTAGE_S [RATE]]
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir
: "${top_builddir:=$top_srcdir/build}"
PODTRAIL=$top_builddir/podtrail
export PODTRAIL
PODTRAIL_VERIFY=$top_builddir/podtrail-verify
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
OUTAGE=${1:-60}
RATE=${2:-2000}
TOTAL=$((OUTAGE * RATE))

make_certs
RECV_PORT=$(free_port)
recv_mode ok
start_podtrail
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PT_PID/status"; }
# paced generator: RATE/10 events every 100 ms
"$PYTHON3" - "$TOTAL" "$RATE" >&7 <<'PY' &
import sys, time
total, rate = int(sys.argv[1]), int(sys.argv[2])
step = max(1, rate // 10)
t0 = time.monotonic()
s = 1
while s <= total:
    out = []
    for i in range(s, min(s + step, total + 1)):
        t = "1700000000.%03d:%d" % (i % 1000, i)
        out.append('type=SYSCALL msg=audit(%s): arch=c000003e syscall=2 success=yes exit=3 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=%d auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="cat" exe="/usr/bin/cat" key="bench"\ntype=PATH msg=audit(%s): item=0 name="/etc/file%d" inode=%d dev=fe:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL\ntype=EOE msg=audit(%s): ' % (t, i, t, i, i, t))
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()
    s += step
    delay = t0 + (s - 1) / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
PY
gen=$!
peak_rss=0 peak_spool=0
sample() {
	local r s
	r=$(rss 2>/dev/null || true); r=${r:-0}
	s=$(du -sk "$T/state/spool" 2>/dev/null | awk '{print $1}' || true); s=${s:-0}
	[ "$r" -gt "$peak_rss" ] && peak_rss=$r
	[ "$s" -gt "$peak_spool" ] && peak_spool=$s
	return 0
}
while kill -0 "$gen" 2>/dev/null; do sample; sleep 1; done
wait "$gen"
wait_for 30 spool_has "$TOTAL" || note "spool holds $(spool_events) of $TOTAL"
sample
t0=$(date +%s.%N)
start_receiver
until recv_has 1; do sleep 0.1; done
tf=$(date +%s.%N)
until recv_has "$TOTAL"; do sample; sleep 0.2; done
t1=$(date +%s.%N)
stop_podtrail
echo "outage ${OUTAGE}s at ${RATE} events/s: $TOTAL events"
echo "peak RSS: ${peak_rss} KiB; peak spool: ${peak_spool} KiB"
echo "first delivery $(echo "$tf - $t0" | bc) s after the aggregator returned (retry backoff)"
echo "backlog drained $(echo "$t1 - $tf" | bc) s after that"
echo "delivered: $(recv_count) lines"
"$PODTRAIL_VERIFY" "$RECV_STORE" | tail -1
