#!/usr/bin/env bash
# The state dir fails under podtrail: first the file system fills up
# (a tiny tmpfs, no free-space floor), then it turns read-only. Each
# time: the cause is logged, the lost batches are counted and reported
# as podtrail_loss events naming their seq range, podtrail keeps
# reading its input, answers signals and does not spin; once the disk
# is usable again everything else arrives and every missing seq is
# covered by a reported loss.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
need_root
need_cmd mount umount timeout

make_certs
tmpfs_state 256k
# podtrail must be gone before the tmpfs (and a read-only layer) can go
add_cleanup "_stop_podtrail_at_exit; while mountpoint -q '$T/state'; do umount '$T/state' || break; done"
RECV_PORT=$(free_port)		# the aggregator is down: everything spools

# push FIRST COUNT: write events without blocking forever, so a
# podtrail that stopped reading its input fails the test
push() {
	gen_audit "$1" "$2" >"$T/more"
	timeout 60 sh -c "cat '$T/more' >&7" || fail "podtrail stopped reading its input"
}
alive() { kill -0 "$PT_PID" 2>/dev/null || fail "podtrail died ($1)"; }
answers_usr1() {
	local n
	n=$(grep -c "counters:" "$T/podtrail.log" || true)
	kill -USR1 "$PT_PID"
	wait_for 20 sh -c "[ \$(grep -c counters: '$T/podtrail.log') -gt $n ]" ||
		fail "no answer to SIGUSR1 ($1)"
}

start_podtrail --batch-age-ms=50 --batch-events=20 --spool-min-free=0 \
	--spool-max-bytes=256M
push 1 1500
wait_for 60 log_has "No space left on device" || fail "ENOSPC not reported"
note "$(grep -m1 "No space left" "$T/podtrail.log")"
wait_for 60 log_has "spool: dropped" || fail "the loss was not counted"
push 1501 100
alive "disk full"
answers_usr1 "disk full"
no_busy_loop "disk full"

# read-only: lay a read-only bind mount of the state dir over itself
# (podtrail's open files stay writable; every new spool segment and
# chain state save fails)
{ mount --bind "$T/state" "$T/state" &&
  mount -o remount,bind,ro "$T/state"; } || skip "cannot make a read-only bind mount"
n_before=$(grep -c "spool: dropped" "$T/podtrail.log")
push 1601 200
wait_for 60 log_has "Read-only file system" || fail "EROFS not reported"
note "$(grep -m1 "Read-only file system" "$T/podtrail.log")"
wait_for 60 sh -c "[ \$(grep -c 'spool: dropped' '$T/podtrail.log') -gt $n_before ]" ||
	fail "the read-only loss was not counted"
alive "read-only"
answers_usr1 "read-only"
no_busy_loop "read-only"

# usable again: the rest arrives, with the losses reported
umount "$T/state"
start_receiver
wait_for 60 spool_empty || fail "spool not drained ($(spool_events) events left)"
push 1801 100
wait_for 60 sh -c "grep -q '\"serial\":1900' '$RECV_STORE'" ||
	fail "the last event never arrived ($(recv_count) stored)"
stop_podtrail
losses_reported
verify_json
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"]')" = 0 ] ||
	fail "verify found tampering"
