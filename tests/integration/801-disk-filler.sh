#!/usr/bin/env bash
# podtrail_disk and the ENOSPC link, with real runc containers on a
# small kubelet disk (a 24 MiB tmpfs made here as KUBELET_ROOT): a
# "daemonset" pod's container fills its emptyDir past 95 %, then a
# "scanner" pod's container fails with ENOSPC writing its own emptyDir.
# The record names the scanner as the victim (its failing write carries
# disk_report_seq), and the linked podtrail_disk report names the
# daemonset's container and volume as the top writer, with bytes within
# 10 % of what it wrote. The per-volume metric says the same.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/containers.sh"

need_containers
need_cmd mount umount
exec 8>&2
need_audit
exec 2>&8

KR="$T/kubelet"
mkdir -p "$KR"
mount -t tmpfs -o size=24m,mode=0755 podtrail-test-disk "$KR"
add_cleanup "umount -l '$KR' 2>/dev/null"
chmod 0755 "$T"
UD=$(ctr_uid); US=$(ctr_uid); IDD=$(ctr_id); IDS=$(ctr_id)
DDIR="$KR/pods/$UD/volumes/kubernetes.io~empty-dir/buffer"
SDIR="$KR/pods/$US/volumes/kubernetes.io~empty-dir/cache"
mkdir -p "$DDIR" "$SDIR"
chmod 0777 "$DDIR" "$SDIR"
mkdir -p "$T/log/pods/logging_agent-x7k2p_$UD/agent" "$T/log/pods/scans_scanner-0_$US/scan"
FILL_MB=23
ctr_rootfs "$T/rootfs"
# the shell opens the file itself, so the writer is alive when podtrail looks
ctr_bundle "$T/bd" "$T/rootfs" "/kubepods/besteffort/pod$UD/$IDD" \
	"exec 3>/buffer/spool.bin && dd if=/dev/zero bs=1M count=$FILL_MB >&3 2>/dev/null; exec sleep 30" \
	"$DDIR:/buffer"
ctr_bundle "$T/bs" "$T/rootfs" "/kubepods/burstable/pod$US/$IDS" \
	"exec 3>/cache/result.bin && dd if=/dev/zero bs=64k count=64 2>&1 >&3; echo rc=\$?; exec sleep 5" \
	"$SDIR:/cache"
ctr_forget_cgroup "kubepods/besteffort/pod$UD"
ctr_forget_cgroup "kubepods/burstable/pod$US"

KW=$(audit_key w)
KE=$(audit_key e)
auditctl -w "$KR/pods" -p wa -k "$KW" >/dev/null
# the pack's ENOSPC rule (src/rules.c), under this test's key
auditctl -a always,exit -F arch=b64 -S write,pwrite,writev,pwritev,pwritev2,open,openat,creat,mkdir,mkdirat,mknod,mknodat,link,linkat,symlink,symlinkat,rename,renameat,renameat2,fallocate,truncate,ftruncate,copy_file_range,sendfile,splice -F exit=-ENOSPC -k "$KE" >/dev/null
OUT=$T/out.ndjson
add_cleanup '[ -z "${PODTRAIL_KEEP_OUT:-}" ] || cp "$OUT" "$PODTRAIL_KEEP_OUT"'
$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$T/state" --source=netlink \
	--kubelet-root="$KR" --pod-log-dir="$T/log/pods" --disk-interval=1 \
	--output="file:$OUT" --heartbeat-interval=0 --metrics-file="$T/metrics.prom" \
	--metrics-interval=1 2>"$T/err" &
PID=$!
add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 20 grep -q "reading audit records" "$T/err" || { cat "$T/err"; fail "podtrail did not start"; }

ctr_run_detached "fill-$$" "$T/bd" || fail "daemonset container: $(cat "$T/fill-$$.err")"
filled() { [ "$(stat -c %s "$DDIR/spool.bin" 2>/dev/null)" = $((FILL_MB << 20)) ]; }
wait_for 30 filled || fail "the daemonset did not write $FILL_MB MiB"
reported() { [ -n "$(py_ndjson "$OUT" "ev['type'] == 'podtrail_disk' and ev['mount'] == '$KR' and (ev['threshold'] or 0) >= 95")" ]; }
wait_for 30 reported || { cat "$T/err"; fail "no podtrail_disk report for $KR past 95 %"; }
df -B1 "$KR" | sed 's/^/# /'

ctr_run "scan-$$" "$T/bs" || fail "scanner container: $(cat "$T/scan-$$.err")"
grep -q "No space left" "$T/scan-$$.out" || fail "the scanner's dd did not fail with ENOSPC: $(cat "$T/scan-$$.out")"
# (the ENOSPC rule sees every process here: other suites' writers too)
linked() { [ -n "$(py_ndjson "$OUT" "ev.get('key') == '$KE' and 'disk_report_seq' in ev and (ev.get('container') or {}).get('id') == '$IDS'")" ]; }
wait_for 30 linked || { cat "$T/err"; fail "no ENOSPC event"; }
wait_for 10 grep -q 'volume_written_bytes{' "$T/metrics.prom" || true
kill -TERM $PID
wait $PID || fail "podtrail exited $?"
check_schema "$OUT" || fail "output does not match the schema"

"$PYTHON3" - "$OUT" "$T/metrics.prom" "$KE" "$KR" "$UD" "$IDD" "$US" "$IDS" $((FILL_MB << 20)) <<'PY'
import json, sys
out, prom, ke, kr, ud, idd, us, ids, wrote = sys.argv[1:]
wrote = int(wrote)
evs = [json.loads(l) for l in open(out) if l.strip()]
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
disk = [e for e in evs if e["type"] == "podtrail_disk" and e["mount"] == kr]
by_seq = {e["seq"]: e for e in disk}
for e in disk:
    print(f"# report seq {e['seq']}: {e['reason']} {e['threshold']}% used {e['used_pct']}%, free {e['free_bytes']}, "
          f"top {[(w['container_id'][:12] if w['container_id'] else None, w['volume'], w['bytes']) for w in e['top_writers']]}")
enospc = [e for e in evs if e.get("key") == ke]
check(enospc, "no ENOSPC event")
victims = [e for e in enospc if (e.get("container") or {}).get("id") == ids]
check(victims, f"no ENOSPC event of the scanner: {[(e.get('container') or {}).get('id') for e in enospc]}")
for e in victims:
    print(f"# victim: {e['syscall']} by {e['process']['comm']} of pod {e['container']['pod_uid']}, "
          f"disk_report_seq {e['disk_report_seq']}, disk_mount {e.get('disk_mount')}")
    check(e["container"]["pod_uid"] == us, "victim pod")
    check(e.get("disk_mount") == kr, f"disk_mount {e.get('disk_mount')}")
    r = by_seq.get(e["disk_report_seq"])
    check(r is not None, f"disk_report_seq {e['disk_report_seq']} is not a report for {kr}")
    if r is None:
        continue
    # the latest report for that file system at the time of the failure
    check(all(x["seq"] < e["seq"] for x in disk if x["seq"] <= r["seq"]) and
          not [x for x in disk if r["seq"] < x["seq"] < e["seq"]], "not the latest report")
    top = r["top_writers"][0] if r["top_writers"] else {}
    check(top.get("container_id") == idd and top.get("pod_uid") == ud and top.get("volume") == "buffer"
          and top.get("volume_type") == "pod-volume" and top.get("volume_pod_uid") == ud,
          f"top writer {top}")
    # the daemonset's bytes over the reports up to the linked one (one, unless a sample fell mid-fill)
    got = sum(w["bytes"] for x in disk if x["seq"] <= r["seq"] for w in x["top_writers"]
              if w["container_id"] == idd and w["volume"] == "buffer")
    print(f"# daemonset wrote {wrote}, reported {got}")
    check(abs(got - wrote) <= wrote * 0.1, f"daemonset bytes {got}, wrote {wrote}")
    check(r["used_pct"] >= 95 and r["free_bytes"] < (2 << 20), f"report usage {r['used_pct']} {r['free_bytes']}")
text = open(prom).read()
line = [l for l in text.splitlines() if l.startswith("podtrail_volume_written_bytes{") and f'pod_uid="{ud}"' in l and 'volume="buffer"' in l]
check(line and abs(float(line[0].split()[-1]) - wrote) <= wrote * 0.1, f"metric {line}")
check(any(l.startswith('podtrail_disk_used_pct{mount="%s"}' % kr) for l in text.splitlines()), "no disk_used_pct for the mount")
check("podtrail_enospc_linked " in text and "podtrail_enospc_linked 0" not in text, "enospc_linked counter")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
