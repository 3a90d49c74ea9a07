#!/usr/bin/env bash
# A loop that falls behind hands the gzip to a helper, and only then:
# podtrail on netlink with an https:// output and helper_threads auto.
# While it keeps up no "request builder" thread runs (the gzip is the
# loop's). The loop is then held up for 2 s (test hook
# PODTRAIL_TEST_STALL_MS) while a burst fills its ring past an eighth:
# ring_behind counts the fall, the builder's thread starts, and every
# file's create and unlink reaches the receiver with no loss reported.
# On the old code there is no ring_behind and no builder thread.
. "$top_srcdir/tests/integration/common.sh"
need_audit
. "$top_srcdir/tests/integration/https.sh"
KEY=$(audit_key w)
mkdir -p "$T/w"
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null
make_certs
start_receiver

RING=$((16 << 20))
PODTRAIL_TEST_STALL_MS=2000 $PODTRAIL_WRAPPER "$PODTRAIL" 9>&- \
	--state-dir="$T/state" --source=netlink \
	--output="https://127.0.0.1:$RECV_PORT/ingest" --ca-file="$T/pki/ca.crt" \
	--ring-bytes=$RING --heartbeat-interval=0 --enrich=no \
	--batch-age-ms=100 --metrics-file="$T/metrics" --metrics-interval=1 \
	2>"$T/err" &
P=$!
add_cleanup "kill $P 2>/dev/null; wait $P 2>/dev/null"
wait_for 20 grep -q "drain thread started" "$T/err" || { cat "$T/err"; fail "podtrail did not start its drain"; }
grep -q "batch builder while behind" "$T/err" || fail "thread plan not logged: $(grep 'helper threads' "$T/err")"

builder() {	# the helper's thread (names are cut to 15 bytes)
	grep -qx "request.builde.*" /proc/$P/task/*/comm 2>/dev/null
}
# the first record the loop takes starts the stall: wait for it to end
echo x >"$T/w/first"
wait_for 20 grep -q "the loop stalls" "$T/err" || fail "the loop never stalled"
builder && fail "a request builder runs before the loop fell behind"
N=4000
burst "$T/w" "$N"
grep -q "the loop goes on" "$T/err" &&
	note "the burst outlasted the stall (busy machine)"
echo x >"$T/w/last"
wait_for 60 grep -qF "$T/w/last" "$RECV_STORE" || fail "the last marker never arrived"
behind() { grep -q '^podtrail_ring_behind [1-9]' "$T/metrics"; }
wait_for 10 behind || fail "ring_behind not counted: $(grep -E 'ring_(behind|peak)' "$T/metrics")"
builder || fail "no request builder thread after the loop fell behind: $(cat /proc/$P/task/*/comm | tr '\n' ' ')"
kill -TERM "$P"
wait "$P" || fail "podtrail exited with $?"

"$PYTHON3" - "$RECV_STORE" "$T/metrics" "$T/w" "$N" "$RING" <<'PY'
import json, re, sys
store, met, d, n, ring = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
names, loss = {}, []
for line in open(store, encoding="utf-8"):
    ev = json.loads(line)
    if ev["type"] == "podtrail_loss":
        loss.append(ev)
    elif ev["type"] == "audit":
        for p in ev.get("paths", []):
            names[p.get("name")] = names.get(p.get("name"), 0) + 1
missing = [i for i in range(n) if names.get("%s/f%d" % (d, i), 0) < 2]
c = {}
for line in open(met, encoding="utf-8"):
    m = re.match(r"podtrail_(\w+) (\d+)$", line.strip())
    if m:
        c[m.group(1)] = int(m.group(2))
print("# %d of %d files delivered; loss events: %d; ring peak %s of %d "
      "bytes; ring_behind %s" % (n - len(missing), n, len(loss),
      c.get("ring_peak_bytes"), ring, c.get("ring_behind")))
if loss:
    sys.exit("FAIL: loss reported: %s" % loss[:2])
if missing:
    sys.exit("FAIL: %d files missing, e.g. f%d" % (len(missing), missing[0]))
if not (ring // 8 <= c["ring_peak_bytes"] <= ring):
    sys.exit("FAIL: ring peak %s outside [%d, %d]" % (c["ring_peak_bytes"], ring // 8, ring))
PY
