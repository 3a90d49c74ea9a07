#!/usr/bin/env bash
# End to end as auditd's plugin: kernel -> private auditd (own config dir,
# plugin_dir pointing at this test's copy, format = string) -> podtrail
# (stdin) -> HTTPS -> tests/receiver.py. Real writes under a watched dir
# arrive, SIGHUP to auditd leaves podtrail running, stopping auditd
# closes podtrail's stdin and podtrail flushes, exits, and the stored
# chain verifies.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
. "$top_srcdir/tests/integration/auditd.sh"
exec 8>&2
need_audit
exec 2>&8
make_certs
start_receiver

W="$T/watched"
mkdir -p "$W"
K=$(audit_key w)
auditctl -w "$W" -p wa -k "$K" >/dev/null
# auditd 3.0 passes at most two plugin args: everything in a file
cat >"$T/podtrail.conf" <<CONF
source = stdin
output = https://127.0.0.1:$RECV_PORT/ingest
ca_file = $T/pki/ca.crt
state_dir = $T/state
batch_age_ms = 100
metrics_file = $T/podtrail.prom
metrics_interval = 1
heartbeat_interval = 0
CONF
auditd_start -c "$T/podtrail.conf"

# auditd's only child (under valgrind its name is not podtrail)
plugin_pid() { pgrep -P "$AUDITD_PID"; }
wait_for 20 plugin_pid || fail "auditd did not start podtrail: $(cat "$T/auditd.out")"
PT=$(plugin_pid)
note "auditd $AUDITD_PID runs podtrail $PT"

N=20
for i in $(seq 1 $N); do echo x >"$W/f$i"; done
arrived() { [ "$(grep -c "\"$W/f[0-9]*\"" "$RECV_STORE")" -ge $N ]; }
wait_for 30 arrived || { cat "$T/auditd.out" "$RECV_LOG" "$T/recv.log" 2>&1 || true; wc -l "$RECV_STORE" "$AUDITD_DIR/audit.log" || true; grep -c "$W" "$AUDITD_DIR/audit.log" || true; fail "writes at the receiver: $(grep -c "$W/f" "$RECV_STORE")"; }

# auditd's SIGHUP reconfigures auditd; the plugin keeps running
kill -HUP "$AUDITD_PID"
for i in $(seq 1 5); do echo y >"$W/g$i"; done
more() { grep -q "\"$W/g5\"" "$RECV_STORE"; }
wait_for 30 more || fail "no events after auditd's SIGHUP"
[ "$(plugin_pid)" = "$PT" ] || note "auditd restarted its plugin on SIGHUP"
# podtrail's own SIGHUP re-reads its file (auditd drops plugin stderr,
# so the proof is the effect: metrics move to the new file)
sed -i "s|^metrics_file = .*|metrics_file = $T/reloaded.prom|" "$T/podtrail.conf"
kill -HUP "$(plugin_pid)"
wait_for 20 grep -q '^podtrail_fwd_sent_events [1-9]' "$T/reloaded.prom" || fail "plugin reload/metrics"

# stop auditd: EOF on podtrail's stdin, flush, exit
for i in $(seq 1 5); do echo z >"$W/h$i"; done
auditd_stop
gone() { ! kill -0 "$PT" 2>/dev/null; }
wait_for 20 gone || fail "podtrail $PT still running after auditd stopped"
grep -qE 'AddressSanitizer|runtime error' "$T/auditd.out" && fail "sanitizer: $(cat "$T/auditd.out")"
auditd_plugin_clean
wait_for 20 grep -q "\"$W/h5\"" "$RECV_STORE" || note "last writes after auditd's stop not seen (auditd may not have passed them on)"
verify_json
[ "$(vq 'r["ok"]')" = True ] || { cat "$T/verify.json"; fail "chain does not verify"; }
note "received $(recv_count) events, chain complete: $(vq 's["events"]') events"
