#!/usr/bin/env bash
# The spool on a full tmpfs while the kernel's audit stream is live and
# busy (netlink source, writers creating and removing files in a
# watched directory), the aggregator down: the full disk is logged,
# dropped batches are counted and reported as podtrail_loss events
# covering every missing seq, podtrail keeps reading netlink (events
# made after the disk has room again arrive), answers SIGUSR1, does not
# spin once the load stops, and what arrives verifies.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
need_cmd mount umount
need_audit

make_certs
tmpfs_state 256k
KEY=$(audit_key w)
mkdir -p "$T/w"
auditctl -w "$T/w" -p wa -k "$KEY" >/dev/null
RECV_PORT=$(free_port)		# the aggregator is down: everything spools

: >"$T/podtrail.log"
$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --source=netlink --state-dir="$T/state" \
	--output="https://127.0.0.1:$RECV_PORT/ingest" --ca-file="$T/pki/ca.crt" \
	--batch-age-ms=50 --batch-events=20 --spool-min-free=0 \
	--heartbeat-interval=0 --enrich=no >>"$T/podtrail.log" 2>&1 &
PT_PID=$!
add_cleanup "kill $PT_PID 2>/dev/null; wait $PT_PID 2>/dev/null; while mountpoint -q '$T/state'; do umount '$T/state' || break; done"
wait_for 20 grep -q "reading audit records" "$T/podtrail.log" || fail "podtrail did not start: $(tail -3 "$T/podtrail.log")"
alive() { kill -0 "$PT_PID" 2>/dev/null || fail "podtrail died ($1): $(tail -3 "$T/podtrail.log")"; }
# storm FILES: two writers creating and removing files (bounded)
storm() {
	"$PYTHON3" - "$T/w" "$1" <<'PY'
import os, sys, threading
d, n = sys.argv[1], int(sys.argv[2])
def run(k):
    for i in range(n // 2):
        p = os.path.join(d, "f%d_%d" % (k, i))
        with open(p, "w") as f:
            f.write("x")
        os.unlink(p)
ts = [threading.Thread(target=run, args=(k,)) for k in range(2)]
for t in ts: t.start()
for t in ts: t.join()
PY
}
storm 6000
wait_for 60 grep -q "No space left on device" "$T/podtrail.log" || fail "ENOSPC not reported"
note "$(grep -m1 "No space left" "$T/podtrail.log")"
wait_for 60 grep -q "spool: dropped" "$T/podtrail.log" || fail "the loss was not counted"
storm 2000
alive "disk full under load"
n=$(grep -c "counters:" "$T/podtrail.log" || true)
kill -USR1 "$PT_PID"
wait_for 20 sh -c "[ \$(grep -c counters: '$T/podtrail.log') -gt $n ]" ||
	fail "no answer to SIGUSR1 with the disk full"
no_busy_loop "disk full, load over"

# room again (the aggregator is back): the spool drains, new events arrive
start_receiver
wait_for 120 spool_empty || fail "spool not drained ($(spool_events) events left)"
echo x >"$T/w/after-the-storm"
wait_for 60 grep -q 'after-the-storm' "$RECV_STORE" ||
	fail "an event made after the storm never arrived ($(recv_count) stored)"
kill -TERM "$PT_PID"
wait "$PT_PID" || [ $? = 1 ] || fail "podtrail exited with $?"
PT_PID=
grep -q "Invalid argument\|Bad address" "$T/podtrail.log" && fail "odd errors: $(grep -m3 'Invalid argument\|Bad address' "$T/podtrail.log")"
losses_reported
verify_json
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"]')" = 0 ] ||
	fail "verify found tampering"
