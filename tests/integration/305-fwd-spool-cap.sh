#!/usr/bin/env bash
# A spool on a tiny tmpfs: past the cap the oldest batches are dropped,
# counted, and reported by a podtrail_loss event that verify's gap
# matches. The disk never fills.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
need_root
need_cmd mount umount

make_certs
tmpfs_state 2m
add_cleanup "umount -l '$T/state'"  # lazy: podtrail may still hold it open
RECV_PORT=$(free_port)
recv_mode ok
start_podtrail --batch-age-ms=50 --batch-events=20 --spool-max-bytes=64K \
	--spool-min-free=1M
feed 1 1500	# ~2.3 kB per gzip'd batch of 20
wait_for 60 log_has "spool: dropped" || fail "no drop reported"
# the cap counts the segments' bytes (small gzip'd files: a page each on disk)
used=$(find "$T/state/spool" -name '*.seg' -printf '%s\n' | awk '{ n += $1 } END { print int(n / 1024) }')
note "spool segments hold ${used} KiB under a 64 KiB cap ($(du -sk "$T/state/spool" | cut -f1) KiB on disk)"
[ "$used" -le 64 ] || fail "spool exceeded its cap: ${used} KiB"
start_receiver
wait_for 60 sh -c "grep -q podtrail_loss '$RECV_STORE'" || fail "no podtrail_loss event"
feed 1501 10
wait_for 30 sh -c "grep -q '/etc/file1510\"' '$RECV_STORE'" || fail "later events not delivered"
stop_podtrail
verify_json
[ "$(vq 's["broken_links"] + s["conflicts"] + s["hash_failures"]')" = 0 ] ||
	fail "verify found tampering"
# every gap lies within what the loss events reported
"$PYTHON3" - "$RECV_STORE" "$T/verify.json" <<'PY' || fail "gaps not covered by loss events"
import json, sys
lost = []
for l in open(sys.argv[1]):
    ev = json.loads(l)
    if ev["type"] == "podtrail_loss":
        lost.append((ev["lost_first_seq"], ev["lost_last_seq"]))
        print("# loss event:", ev["lost_events"], "events", ev["lost_first_seq"], "..", ev["lost_last_seq"])
gaps = json.load(open(sys.argv[2]))["streams"][0]["gaps"]
assert gaps, "expected gaps"
# drops reported in several loss events may be adjacent: join them first
cover = []
for x, y in sorted(lost):
    if cover and x <= cover[-1][1] + 1:
        cover[-1][1] = max(cover[-1][1], y)
    else:
        cover.append([x, y])
for a, b in gaps:
    assert any(x <= a and b <= y for x, y in cover), (a, b, cover)
PY
