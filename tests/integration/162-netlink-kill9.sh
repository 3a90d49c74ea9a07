#!/usr/bin/env bash
# kill -9 under live load loses nothing podtrail has read: podtrail on
# the kernel's stream, batches sealed only by a far-off age, so every
# event is in the batch being built. 500 files are written and read
# (seen in the spool's open segment), then, while a writer keeps going,
# podtrail is killed with SIGKILL. After a restart the receiver has
# every one of the 500 files' events and every event that was sealed
# (chained) before the kill, which the open segment copied right after
# the kill tells, with no hole before the newest of them (events are
# read and sealed in serial order). The writer's events after the kill
# are not the test's. The old code lost the whole batch being built
# (fails at the 500 files).
. "$top_srcdir/tests/integration/common.sh"
need_audit
. "$top_srcdir/tests/integration/https.sh"
KEY=$(audit_key w)
mkdir -p "$T/w"
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null
make_certs
start_receiver

PT=
run() {
	$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --source=netlink --state-dir="$T/state" \
		--output="https://127.0.0.1:$RECV_PORT/ingest" --ca-file="$T/pki/ca.crt" \
		--heartbeat-interval=0 --enrich=no "$@" >>"$T/podtrail.log" 2>&1 &
	PT=$!
}
add_cleanup 'if [ -n "$PT" ]; then kill -9 $PT 2>/dev/null; wait $PT 2>/dev/null; fi'
run --batch-age-ms=600000 --batch-events=1000000 --batch-bytes=256M
wait_for 20 grep -q "reading audit records" "$T/podtrail.log" || fail "podtrail did not start"

N=500
writer() { # writer PREFIX COUNT (COUNT 0: until killed)
	"$PYTHON3" - "$T/w" "$1" "$2" <<'PY'
import os, sys, time
d, pre, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
i = 0
while n == 0 or i < n:
    p = os.path.join(d, "%s%d" % (pre, i))
    try:
        with open(p, "w") as f:
            f.write("x")
        os.unlink(p)
    except FileNotFoundError:
        break           # the test is over
    i += 1
    if n == 0:
        time.sleep(0.001)   # a live load, not a storm
PY
}
writer f $N
echo x >"$T/w/read-marker"
in_open() { grep -qF "$1" "$T"/state/spool/open-*.ndjson 2>/dev/null; }
wait_for 60 in_open "$T/w/read-marker" || fail "the events never reached the open segment"
[ "$(find "$T/state/spool" -name '*.seg' | wc -l)" = 0 ] || fail "a batch was sealed: the test proves nothing"

writer g 0 &
W=$!
add_cleanup "kill $W 2>/dev/null; wait $W 2>/dev/null"
# under load: a fair number of the writer's events are read
wait_for 60 in_open "$T/w/g200\"" || fail "the load's events never arrived"
kill -9 "$PT"
wait "$PT" 2>/dev/null || true
PT=
kill "$W"
wait "$W" 2>/dev/null || true
cp "$T"/state/spool/open-*.ndjson "$T/at-kill.ndjson"
note "killed under load with $(cat "$T"/state/spool/open-*.ndjson | wc -l) events in the batch being built"

run --batch-age-ms=100
wait_for 60 grep -qF "$T/w/read-marker" "$RECV_STORE" || fail "the read events were not delivered after restart"
grep -q "of a batch being built when podtrail stopped" "$T/podtrail.log" || fail "recovery not logged"
kill -TERM "$PT"
wait "$PT" || fail "podtrail exited with $?"
PT=

"$PYTHON3" - "$RECV_STORE" "$T/w" "$N" "$T/at-kill.ndjson" <<'PY'
import json, re, sys
store, d, n, atkill = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
count, got = {}, set()
for line in open(store, encoding="utf-8"):
    ev = json.loads(line)
    got.add((ev["stream"], ev["seq"]))
    if ev["type"] != "audit":
        continue
    for p in ev.get("paths", []):
        name = p.get("name") or ""
        if name.startswith(d + "/") and p.get("nametype") in ("CREATE", "DELETE"):
            k = name[len(d) + 1:]
            count[k] = count.get(k, 0) + 1
sealed = set()
for line in open(atkill, encoding="utf-8"):
    if line.endswith("\n"):          # a line cut by the kill was not sealed
        ev = json.loads(line)
        sealed.add((ev["stream"], ev["seq"]))
f_missing = [i for i in range(n) if count.get("f%d" % i, 0) < 2]
# the load's files up to the newest one sealed before the kill
k = max((int(m) for m in re.findall(r'/g(\d+)"', open(atkill).read())), default=-1)
holes = [i for i in range(k) if count.get("g%d" % i, 0) < 2]
lost = sealed - got
print("# %d of %d files read before the load delivered; %d of %d events "
      "sealed before the kill delivered; the load's g0..g%d all delivered "
      "but %d" % (n - len(f_missing), n, len(sealed) - len(lost), len(sealed),
      k, len(holes)))
if f_missing:
    sys.exit("FAIL: %d read files lost, e.g. f%d" % (len(f_missing), f_missing[0]))
if k < 200:
    sys.exit("FAIL: only g0..g%d sealed, g200 was" % k)
if lost:
    sys.exit("FAIL: %d sealed events lost, e.g. seq %d" % (len(lost), min(lost)[1]))
# events are read and sealed in serial order: a hole is a read event lost
if holes:
    sys.exit("FAIL: events of the load lost before the last sealed one: g%s" % holes[:5])
PY
