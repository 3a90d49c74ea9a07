#!/usr/bin/env bash
# Live stdin (the auditd plugin path): an event with no EOE is emitted by
# the end-of-event timeout while the stream stays idle and open, and
# SIGTERM flushes what is pending and exits 0. Run twice: parsing on the
# loop's thread (the default for stdin) and on the parse worker
# (--helper-threads=yes).
. "$top_srcdir/tests/integration/common.sh"
need_cmd mkfifo

# check_mode NAME [podtrail options]; threads: how many podtrail should run
check_mode() {
	local m=$1 threads=$2 pid rc got now
	shift 2

	mkfifo "$T/$m.in"
	podtrail_exec "$@" --source=stdin --output=file:"$T/$m.out.ndjson" --eoe-timeout=1 \
		--state-dir="$T/$m.state" <"$T/$m.in" 2>"$T/$m.err" &
	pid=$!
	add_cleanup "kill $pid 2>/dev/null"
	exec 3>"$T/$m.in"	# keep the writer side open: the stream stays idle, not ended

	now=$(date +%s)
	printf 'type=SYSCALL msg=audit(%s.100:9001): arch=c000003e syscall=2 success=yes exit=3 items=1 ppid=1 pid=2 comm="w"\n' "$now" >&3
	printf 'type=PATH msg=audit(%s.100:9001): item=0 name="/tmp/a" nametype=CREATE\n' "$now" >&3
	# no EOE, nothing after it: only the timeout can end this event
	has_event() { grep -q "\"serial\":$1" "$T/$m.out.ndjson" 2>/dev/null; }
	wait_for 15 has_event 9001 || { cat "$T/$m.err"; fail "$m: event without EOE never emitted"; }
	note "$m: event 9001 emitted by the EOE timeout while idle"
	# the parse worker is a thread of its own (and the only helper here),
	# with no capability, at the loop's (boosted) priority
	if [ -z "${PODTRAIL_WRAPPER:-}" ]; then
		[ "$(ls /proc/$pid/task | wc -l)" = "$threads" ] ||
			fail "$m: $(ls /proc/$pid/task | wc -l) threads, not $threads"
		for t in /proc/$pid/task/*; do
			[ "${t##*/}" = "$pid" ] && continue
			[ "$(sed -n 's/^CapEff:[[:space:]]*//p' "$t/status")" = 0000000000000000 ] ||
				fail "$m: helper thread ${t##*/} holds capabilities"
			[ "$(awk '{print $19}' "$t/stat")" = "$(awk '{print $19}' "/proc/$pid/stat")" ] ||
				fail "$m: helper thread ${t##*/} not at podtrail's priority"
		done
	fi

	# an event in progress at SIGTERM is flushed, and the exit is clean
	printf 'type=SYSCALL msg=audit(%s.200:9002): arch=c000003e syscall=2 success=yes exit=3 items=0 ppid=1 pid=2 comm="w"\n' "$(date +%s)" >&3
	# wait until podtrail has read it (it sits in auparse, not in the pipe)
	pipe_empty() { [ "$("$PYTHON3" -c 'import fcntl,termios,array; a=array.array("i",[0]); fcntl.ioctl(3, termios.FIONREAD, a); print(a[0])' 3<"$T/$m.in")" = 0 ]; }
	wait_for 10 pipe_empty || fail "$m: podtrail did not read its input"
	kill -TERM $pid
	rc=0; wait $pid || rc=$?
	[ "$rc" = 0 ] || { cat "$T/$m.err"; fail "$m: exit status $rc after SIGTERM"; }
	has_event 9002 || fail "$m: pending event lost at SIGTERM"
	exec 3>&-
	note "$m: SIGTERM flushed the pending event, exit 0"

	# records already in the pipe when SIGTERM arrives are taken in, not
	# dropped: podtrail is stopped while they are written, then told to quit
	mkfifo "$T/$m.in2"
	podtrail_exec "$@" --source=stdin --output=file:"$T/$m.out2.ndjson" \
		--state-dir="$T/$m.state2" <"$T/$m.in2" 2>"$T/$m.err2" &
	pid=$!
	add_cleanup "kill -CONT $pid 2>/dev/null; kill $pid 2>/dev/null"
	exec 4>"$T/$m.in2"
	started() { grep -q "new chain stream" "$T/$m.err2"; }
	wait_for 20 started || { cat "$T/$m.err2"; fail "$m: second podtrail did not start"; }
	kill -STOP $pid
	now=$(date +%s)
	for i in $(seq 1 150); do	# ~30 KiB: fits in the pipe while it sleeps
		printf 'type=SYSCALL msg=audit(%s.000:%d): arch=c000003e syscall=2 success=yes exit=3 items=0 ppid=1 pid=2 comm="w"\ntype=EOE msg=audit(%s.000:%d): \n' \
			"$now" $((20000 + i)) "$now" $((20000 + i)) >&4
	done
	kill -TERM $pid
	kill -CONT $pid
	rc=0; wait $pid || rc=$?
	exec 4>&-
	[ "$rc" = 0 ] || { cat "$T/$m.err2"; fail "$m: exit status $rc after SIGTERM"; }
	got=$(grep -c '"type":"audit"' "$T/$m.out2.ndjson" || true)
	[ "$got" = 150 ] || fail "$m: SIGTERM dropped records still in the pipe: $got of 150"
	note "$m: SIGTERM took in the 150 events already in the pipe"
}

check_mode loop 1
check_mode worker 2 --helper-threads=yes
