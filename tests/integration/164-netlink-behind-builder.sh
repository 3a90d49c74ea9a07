#!/usr/bin/env bash
# A loop that falls behind hands the gzip and the parsing to helpers,
# and only then: podtrail on netlink with an https:// output and
# helper_threads auto. While it keeps up no "request builder" and no
# "parse worker" thread runs (that work is the loop's). The loop is
# then held up for 2 s (test hook PODTRAIL_TEST_STALL_MS) while a burst
# fills its ring past an eighth: ring_behind counts the fall, both
# helpers' threads start, and every file's create and unlink reaches
# the receiver with no loss reported. On the old code there is no
# ring_behind and neither thread.
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
grep -q "parse while behind, batch builder while behind" "$T/err" ||
	fail "thread plan not logged: $(grep 'helper threads' "$T/err")"

builder() {	# the helper's thread (names are cut to 15 bytes)
	grep -qx "request.builde.*" /proc/$P/task/*/comm 2>/dev/null
}
parser() { grep -qx "parse.worker" /proc/$P/task/*/comm 2>/dev/null; }
# the first record the loop takes starts the stall: wait for it to end
echo x >"$T/w/first"
wait_for 20 grep -q "the loop stalls" "$T/err" || fail "the loop never stalled"
builder && fail "a request builder runs before the loop fell behind"
parser && fail "a parse worker runs before the loop fell behind"
N=4000
burst "$T/w" "$N"
grep -q "the loop goes on" "$T/err" &&
	note "the burst outlasted the stall (busy machine)"
echo x >"$T/w/last"
wait_for 60 grep -qF "$T/w/last" "$RECV_STORE" || fail "the last marker never arrived"
behind() { grep -q '^podtrail_ring_behind [1-9]' "$T/metrics"; }
wait_for 10 behind || fail "ring_behind not counted: $(grep -E 'ring_(behind|peak)' "$T/metrics")"
builder || fail "no request builder thread after the loop fell behind: $(cat /proc/$P/task/*/comm | tr '\n' ' ')"
parser || fail "no parse worker thread after the loop fell behind: $(cat /proc/$P/task/*/comm | tr '\n' ' ')"
kill -TERM "$P"
wait "$P" || fail "podtrail exited with $?"

"$PYTHON3" "$top_srcdir/tests/integration/burst-check.py" "$RECV_STORE" "$T/w" "$N" \
    --metrics "$T/metrics" --ring-peak "$((RING / 8)):$RING" || fail "burst check"
# events parsed by the worker are chained in order with the rest
"$PODTRAIL_VERIFY" "$RECV_STORE" >"$T/verify" 2>&1 || fail "verify: $(tail -3 "$T/verify")"
