#!/usr/bin/env bash
# Loss is never silent: a reader stopped (SIGSTOP) with a small receive
# buffer while a load generator writes must report, once resumed, an
# ENOBUFS loss event and serial_gap events whose counts add up to the
# serials it really missed. The truth comes from a second reader with
# a large buffer that is never stopped.
. "$top_srcdir/tests/integration/common.sh"
need_audit
KEY=$(audit_key w)
mkdir -p "$T/w"
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null

start() { # start NAME RCVBUF: the pid goes into $pid
	$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$(mktemp -d -p "$T")" --source=netlink --output="file:$T/$1.json" \
		--rcvbuf="$2" --heartbeat-interval=0 --status-interval=1 \
		2>"$T/$1.err" &
	pid=$!
}
start a 64M
A=$pid
add_cleanup "kill $A 2>/dev/null; wait $A 2>/dev/null"
wait_for 20 grep -q "reading audit records" "$T/a.err" || fail "reader a did not start"
start b 64K
B=$pid
add_cleanup "kill -CONT $B 2>/dev/null; kill $B 2>/dev/null; wait $B 2>/dev/null"
wait_for 20 grep -q "reading audit records" "$T/b.err" || fail "reader b did not start"

seen() { grep -qF "$2" "$T/$1.json"; }
echo x >"$T/w/first"
wait_for 20 seen b "$T/w/first" || fail "b saw nothing"

kill -STOP "$B"
burst "$T/w" 3000
kill -CONT "$B"
# b may still be draining a full buffer, which drops what comes now:
# write markers until one gets through
got=
for i in $(seq 1 30); do
	echo x >"$T/w/marker$i"
	if wait_for 2 seen b "$T/w/marker$i"; then got=$i; break; fi
done
[ -n "$got" ] || { tail -5 "$T/b.err"; fail "b never saw a marker"; }
wait_for 60 seen a "$T/w/marker$got" || fail "a never saw the marker"
# stopping settles every serial up to the newest one
kill -TERM "$B"
wait "$B" || fail "b exited with $?"
kill -TERM "$A"
wait "$A" || fail "a exited with $?"

"$PYTHON3" - "$T/a.json" "$T/b.json" <<'PY'
import json, sys

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
lo, hi = min(b), max(b)
if any(l["cause"] in ("enobufs", "kernel_lost") for l in aloss):
    sys.exit("FAIL: the reference reader lost records itself: %s" % aloss)
# serials the kernel never sent to anyone are gaps for both readers
a_gaps = sum(l["count"] for l in aloss if l["cause"] == "serial_gap"
             and lo <= l["first_missing"] and l["last_missing"] <= hi)
truth = len({s for s in a if lo <= s <= hi} - b)
gaps = [l for l in bloss if l["cause"] == "serial_gap"]
reported = sum(l["count"] for l in gaps)
enobufs = [l for l in bloss if l["cause"] == "enobufs"]
print("# b: %d serials received in [%d, %d]; really missing %d; reported %d "
      "in %d serial_gap event(s); kernel-side gaps seen by a: %d; "
      "enobufs events: %d" % (len(b), lo, hi, truth, reported, len(gaps),
                              a_gaps, len(enobufs)))
if truth == 0:
    sys.exit("FAIL: nothing was lost; the test proves nothing")
if not enobufs:
    sys.exit("FAIL: no enobufs loss event")
if reported != truth + a_gaps:
    sys.exit("FAIL: reported %d missing serials, really %d (+%d unsent)"
             % (reported, truth, a_gaps))
for l in gaps:
    assert l["first_missing"] <= l["last_missing"], l
PY
