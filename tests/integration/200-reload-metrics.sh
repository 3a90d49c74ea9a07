#!/usr/bin/env bash
# SIGHUP re-reads the config file: live settings (log_level,
# heartbeat_interval, metrics_file) apply at once, others are reported as
# needing a restart, a bad file keeps the running settings. metrics_file
# is valid Prometheus text whose counters grow; SIGUSR1 logs them.
. "$top_srcdir/tests/integration/common.sh"

mkfifo "$T/in"
conf() {
	cat >"$T/podtrail.conf" <<CONF
source = stdin
output = file:$T/out.ndjson
state_dir = $T/state
heartbeat_interval = 0
$*
CONF
}
conf "metrics_file = $T/podtrail.prom
metrics_interval = 1"
podtrail_exec -c "$T/podtrail.conf" <"$T/in" 2>"$T/log" &
PID=$!
add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
exec 7>"$T/in"
add_cleanup 'exec 7>&-'

"$PYTHON3" - 1 50 >&7 <<'PY'
import sys
for s in range(int(sys.argv[1]), int(sys.argv[1]) + int(sys.argv[2])):
    t = "1700000000.000:%d" % s
    print('type=SYSCALL msg=audit(%s): arch=c000003e syscall=2 success=yes exit=3 pid=1 comm="x"' % t)
    print('type=EOE msg=audit(%s): ' % t)
PY
metric() { sed -n "s/^podtrail_$1 //p" "$T/podtrail.prom"; }
events_at_least() { [ "$(metric events)" -ge "$1" ]; }
wait_for 20 test -s "$T/podtrail.prom" || fail "no metrics file"
wait_for 20 events_at_least 50 || fail "events counter: $(metric events)"
# Prometheus text exposition: comments or NAME{labels} VALUE
bad=$(grep -Ev '^(# (TYPE|HELP) [a-zA-Z_:][a-zA-Z0-9_:]* .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? [-+0-9.eE]+)$' "$T/podtrail.prom" || true)
[ -z "$bad" ] || fail "not Prometheus text: $bad"
grep -q '^podtrail_events_by_type{type="audit"} 50$' "$T/podtrail.prom" || fail "no per-type count"
grep -q '^podtrail_lost_events{cause="output"} 0$' "$T/podtrail.prom" || fail "no loss by cause"
note "metrics: $(wc -l <"$T/podtrail.prom") lines, events $(metric events)"

# live change: heartbeats start, debug logging on, metrics elsewhere;
# state_dir cannot move while running
conf "metrics_file = $T/second.prom
metrics_interval = 1
heartbeat_interval = 1
log_level = debug
state_dir = $T/elsewhere"
kill -HUP $PID
wait_for 20 grep -q 'reload: heartbeat_interval changed' "$T/log" || fail "no reload"
grep -q 'reload: state_dir changed, needs a restart' "$T/log" || fail "state_dir not reported"
heartbeat() { grep -q '"podtrail_heartbeat"' "$T/out.ndjson"; }
wait_for 20 heartbeat || fail "heartbeat_interval not applied"
wait_for 20 test -s "$T/second.prom" || fail "metrics_file not moved"
[ ! -e "$T/elsewhere" ] || fail "state_dir moved live"
# counters grow
"$PYTHON3" -c 'import sys
for s in range(100, 120):
    t = "1700000001.000:%d" % s
    print("type=SYSCALL msg=audit(%s): arch=c000003e syscall=2 success=yes exit=3 pid=1 comm=\"x\"" % t)
    print("type=EOE msg=audit(%s): " % t)' >&7
grown() { [ "$(sed -n 's/^podtrail_events_by_type{type="audit"} //p' "$T/second.prom")" -ge 70 ]; }
wait_for 20 grown || fail "counters did not grow: $(cat "$T/second.prom")"

# a bad file: FILE:LINE logged, old settings kept (heartbeats go on)
printf 'heartbeat_interval = 1\nbatch_events = lots\n' >"$T/podtrail.conf"
kill -HUP $PID
wait_for 20 grep -q "$T/podtrail.conf:2: batch_events: 'lots' is not a number.*; keeping" "$T/log" ||
	fail "bad file not reported: $(cat "$T/log")"
kill -0 $PID || fail "podtrail died on a bad reload"
kill -USR1 $PID
wait_for 20 grep -q 'counters: {"records":' "$T/log" || fail "SIGUSR1 dumped nothing"

exec 7>&-
wait $PID || fail "podtrail exited $?"
note "reload ok"
