#!/usr/bin/env bash
# The free-disk floor: with a generous cap, a nearly full file system
# makes the spool drop its oldest batches (and report them) instead of
# filling the disk.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
need_root
need_cmd mount umount df

make_certs
tmpfs_state 1m
add_cleanup "umount -l '$T/state'"  # lazy: podtrail may still hold it open
RECV_PORT=$(free_port)
recv_mode ok
start_podtrail --batch-age-ms=50 --batch-events=20 --spool-max-bytes=256M \
	--spool-min-free=700K
feed 1 3000	# gzip'd batches of 20 take a 4 KiB page each
wait_for 60 log_has "spool: dropped" || fail "no drop at the free-space floor"
free_kb=$(df -k --output=avail "$T/state" | tail -1 | tr -d ' ')
note "free space on the spool's file system: ${free_kb} KiB (floor 700)"
[ "$free_kb" -ge 650 ] || fail "spool ate into the floor: ${free_kb} KiB free"
start_receiver
wait_for 60 sh -c "grep -q podtrail_loss '$RECV_STORE'" || fail "no podtrail_loss event"
stop_podtrail
verify_json
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"]')" = 0 ] ||
	fail "verify found tampering"
[ "$(vq 's["missing"] > 0')" = True ] || fail "the drop should be a gap"
