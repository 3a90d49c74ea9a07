#!/usr/bin/env bash
# Ring full: the loop is stalled (test hook) while a burst arrives and
# the drain's ring (ring_bytes 64K) holds only a few dozen records. What
# does not fit is dropped and told exactly: podtrail_loss events with
# cause ring_full whose serial ranges, with what was delivered, cover
# every serial a reference reader (big ring, no stall) saw; no serial in
# those ranges is reported again as a serial_gap; the records counted
# match the counters. Fails on the old code (no ring_bytes, no drain).
. "$top_srcdir/tests/integration/common.sh"
need_audit
KEY=$(audit_key w)
mkdir -p "$T/w"
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null

start() { # start NAME RING [env...]: the pid goes into $pid
	local name=$1 ring=$2
	shift 2
	env "$@" $PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$T/state-$name" \
		--source=netlink --output="file:$T/$name.json" --rcvbuf=32M \
		--ring-bytes="$ring" --heartbeat-interval=0 --status-interval=1 \
		--metrics-file="$T/$name.prom" --metrics-interval=1 \
		2>"$T/$name.err" &
	pid=$!
}
start ref 64M
A=$pid
add_cleanup "kill $A 2>/dev/null; wait $A 2>/dev/null"
start small 64K PODTRAIL_TEST_STALL_MS=2000
B=$pid
add_cleanup "kill $B 2>/dev/null; wait $B 2>/dev/null"
for n in ref small; do
	wait_for 20 grep -q "drain thread started" "$T/$n.err" || { cat "$T/$n.err"; fail "$n did not start"; }
done
echo x >"$T/w/first"
wait_for 20 grep -q "the loop stalls" "$T/small.err" || fail "the loop never stalled"
burst "$T/w" 2000
seen() { grep -qF "$2" "$T/$1.json"; }
# while the ring is full a marker is dropped too: write until one passes
got=
for i in $(seq 1 30); do
	echo x >"$T/w/marker$i"
	if wait_for 3 seen small "$T/w/marker$i"; then got=$i; break; fi
done
[ -n "$got" ] || { tail -5 "$T/small.err"; fail "small never saw a marker"; }
wait_for 60 seen ref "$T/w/marker$got" || fail "ref never saw the marker"
wait_for 10 grep -q "^podtrail_ring_lost_records [1-9]" "$T/small.prom" || fail "no ring loss counted"
kill -TERM "$B"
wait "$B" || fail "small exited with $?"
kill -TERM "$A"
wait "$A" || fail "ref exited with $?"

"$PYTHON3" - "$T/ref.json" "$T/small.json" "$T/small.prom" <<'PY'
import json, re, sys

def load(path):
    serials, loss = set(), []
    for line in open(path, encoding="utf-8"):
        ev = json.loads(line)
        if ev["type"] == "audit":
            serials.add(ev["serial"])
        elif ev["type"] == "podtrail_loss":
            loss.append(ev)
    return serials, loss

a, aloss = load(sys.argv[1])
b, bloss = load(sys.argv[2])
c = {}
for line in open(sys.argv[3]):
    m = re.match(r"podtrail_(\w+) (\d+)$", line.strip())
    if m:
        c[m.group(1)] = int(m.group(2))
if any(l["cause"] != "serial_gap" for l in aloss):
    sys.exit("FAIL: the reference reader lost records itself: %s" % aloss)
ring = [l for l in bloss if l["cause"] == "ring_full"]
gaps = [l for l in bloss if l["cause"] == "serial_gap"]
other = [l for l in bloss if l["cause"] not in ("ring_full", "serial_gap")]
lo, hi = min(b), max(b)
in_ring = set()
for l in ring:
    assert l["first_missing"] <= l["last_missing"], l
    assert l["ring_bytes"] == 65536, l
    # one event's records may straddle two reports: ranges may share ends
    in_ring |= set(range(l["first_missing"], l["last_missing"] + 1))
truth = {s for s in a if lo <= s <= hi} - b
uncovered = truth - in_ring
twice = {s for l in gaps for s in range(l["first_missing"], l["last_missing"] + 1)} & in_ring
records = sum(l["count"] for l in ring)
print("# %d serials delivered in [%d, %d]; %d missing; %d ring_full events "
      "(%d records, %d serials); ring peak %s; other loss %s" % (len(b), lo, hi,
      len(truth), len(ring), records, len(in_ring), c.get("ring_peak_bytes"), other))
if not truth or not ring:
    sys.exit("FAIL: nothing was lost; the test proves nothing")
if uncovered:
    sys.exit("FAIL: %d missing serials not in a ring_full range, e.g. %d"
             % (len(uncovered), min(uncovered)))
if twice:
    sys.exit("FAIL: serials reported both as ring_full and serial_gap: %s" % sorted(twice)[:5])
if records != c["ring_lost_records"]:
    sys.exit("FAIL: events tell %d records, the counter %d" % (records, c["ring_lost_records"]))
if c["ring_peak_bytes"] > 65536:
    sys.exit("FAIL: ring peak %d over the bound" % c["ring_peak_bytes"])
# a range holds only serials the kernel really sent (or none it did not)
spurious = {s for s in in_ring if lo <= s <= hi} - {s for s in a}
if spurious:
    sys.exit("FAIL: ring_full ranges name serials nobody saw: %s" % sorted(spurious)[:5])
PY
