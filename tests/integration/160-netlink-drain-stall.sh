#!/usr/bin/env bash
# A drain that outlives a stalled loop: the loop is held up for 2 s
# (test hook PODTRAIL_TEST_STALL_MS) while a burst of thousands of
# events arrives, with a receive buffer (256K) that holds a few
# hundred records. The drain thread moves them into the ring at once:
# every file's create and unlink are delivered, no loss is reported,
# and the ring never held more than ring_bytes. On the old code (no
# drain thread: the 256K socket overflows while the loop sleeps) this
# fails; the same setting is refused there.
. "$top_srcdir/tests/integration/common.sh"
need_audit
KEY=$(audit_key w)
mkdir -p "$T/w"
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null

RING=$((16 << 20))
PODTRAIL_TEST_STALL_MS=2000 $PODTRAIL_WRAPPER "$PODTRAIL" 9>&- \
	--state-dir="$T/state" --source=netlink --output="file:$T/out.json" \
	--rcvbuf=256K --ring-bytes=$RING --heartbeat-interval=0 \
	--status-interval=1 --metrics-file="$T/metrics" --metrics-interval=1 \
	2>"$T/err" &
P=$!
add_cleanup "kill $P 2>/dev/null; wait $P 2>/dev/null"
wait_for 20 grep -q "drain thread started" "$T/err" || { cat "$T/err"; fail "podtrail did not start its drain"; }

# the first record the loop takes starts the stall
echo x >"$T/w/first"
wait_for 20 grep -q "the loop stalls" "$T/err" || fail "the loop never stalled"
N=2000
burst "$T/w" "$N"
if grep -q "the loop goes on" "$T/err"; then
	note "the burst outlasted the stall (busy machine): it still proves no loss"
else
	note "the whole burst arrived while the loop was stalled"
fi
echo x >"$T/w/last"
wait_for 60 grep -qF "$T/w/last" "$T/out.json" || fail "the last marker never arrived"
wait_for 10 grep -q "^podtrail_ring_peak_bytes" "$T/metrics" || fail "no ring counters in $T/metrics"
kill -TERM "$P"
wait "$P" || fail "podtrail exited with $?"

"$PYTHON3" - "$T/out.json" "$T/metrics" "$T/w" "$N" "$RING" <<'PY'
import json, re, sys
out, err, d, n, ring = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
names, loss = {}, []
for line in open(out, encoding="utf-8"):
    ev = json.loads(line)
    if ev["type"] == "podtrail_loss":
        loss.append(ev)
    elif ev["type"] == "audit":
        for p in ev.get("paths", []):
            names[p.get("name")] = names.get(p.get("name"), 0) + 1
missing = [i for i in range(n) if names.get("%s/f%d" % (d, i), 0) < 2]
c = {}
for line in open(err, encoding="utf-8"):
    m = re.match(r"podtrail_(\w+) (\d+)$", line.strip())
    if m:
        c[m.group(1)] = int(m.group(2))
print("# %d of %d files seen created and unlinked; loss events: %s; "
      "ring peak %s of %d bytes; enobufs %s" % (n - len(missing), n, loss,
      c.get("ring_peak_bytes"), ring, c.get("enobufs")))
if loss:
    sys.exit("FAIL: loss reported: %s" % loss)
if missing:
    sys.exit("FAIL: %d files missing, e.g. f%d" % (len(missing), missing[0]))
if not (0 < c["ring_peak_bytes"] <= ring):
    sys.exit("FAIL: ring peak %s outside (0, %d]" % (c["ring_peak_bytes"], ring))
PY
