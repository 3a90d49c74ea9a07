#!/usr/bin/env bash
# A container cannot choose its own attribution. A real runc container
# of pod A is given a delegated cgroup of its own (v2, owned by its
# user, bound in at /cg, as systemd's Delegate= does), creates children
# named like another pod's container (cgroupfs and systemd form) and
# like CRI-O's monitor, moves its shell into each and writes its
# emptyDir. podtrail, reading /proc/<pid>/cgroup at event time, must
# still say container A of pod A (not pod B, not "host"), cross_pod false.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/containers.sh"

need_containers
[ -e /sys/fs/cgroup/unified/cgroup.procs ] && V2=/sys/fs/cgroup/unified || V2=/sys/fs/cgroup
[ "$(stat -f -c %T "$V2")" = cgroup2fs ] || skip "needs a cgroup v2 hierarchy"
exec 8>&2
need_audit
exec 2>&8

KR=$T/kubelet
UA=$(ctr_uid); UB=$(ctr_uid); ID=$(ctr_id); IDB=$(ctr_id)
EDIR="$KR/pods/$UA/volumes/kubernetes.io~empty-dir/cache"
mkdir -p "$EDIR" "$KR/pods/$UB/volumes"
chmod 0777 "$EDIR"
chmod 0755 "$T"
CG="kubepods/besteffort/pod$UA/$ID"
ctr_forget_cgroup "kubepods/besteffort/pod$UA"
# delegated: the container's own v2 cgroup belongs to its user
mkdir -p "$V2/$CG"
chown 1000:1000 "$V2/$CG" "$V2/$CG/cgroup.procs" "$V2/$CG/cgroup.subtree_control"

KW=$(audit_key w)
auditctl -w "$KR/pods" -p wa -k "$KW" >/dev/null
OUT=$T/out.ndjson
$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$(mktemp -d -p "$T")" --source=netlink \
	--kubelet-root="$KR" --output="file:$OUT" --heartbeat-interval=0 2>"$T/err" &
PID=$!
add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 20 grep -q "reading audit records" "$T/err" || { cat "$T/err"; fail "podtrail did not start"; }

# each move, then a pause past podtrail's 1 s cgroup cache, then the write
# from the same (live) shell, then a pause so the write is looked up live
script="set -e
move() { mkdir -p \"/cg/\$1\"; echo \$\$ > \"/cg/\$1/cgroup.procs\"; sleep 1.5; }
move kubepods/pod$UB/$IDB; echo e > /cache/evil-pod; sleep 1
move kubepods-pod${UB//-/_}.slice/cri-containerd-$IDB.scope; echo e > /cache/evil-slice; sleep 1
move crio-conmon-$IDB; echo e > /cache/evil-conmon; sleep 1
echo ok > /cache/honest"
ctr_rootfs "$T/rootfs"
ctr_bundle "$T/b" "$T/rootfs" "/$CG" "$script" "$EDIR:/cache" "$V2/$CG:/cg"
ctr_run c-$$ "$T/b" || fail "container failed: $(cat "$T/c-$$.err")"
[ -e "$EDIR/honest" ] || fail "the container did not finish: $(cat "$T/c-$$.err")"
seen() { [ "$(py_ndjson "$OUT" "any(p.get('nametype') == 'CREATE' and p.get('name', '').startswith('/cache/') for p in ev['paths'])" | wc -l)" -ge 4 ]; }
wait_for 20 seen || note "not every write event arrived"
kill "$PID"
wait "$PID" || true

"$PYTHON3" - "$OUT" "$ID" "$UA" <<'PY'
import json, sys
out, cid, ua = sys.argv[1:]
w = {}
for l in open(out):
    ev = json.loads(l)
    for p in ev.get("paths") or []:
        if p.get("nametype") == "CREATE":
            w[p.get("name")] = ev
bad = []
for name in ("/cache/evil-pod", "/cache/evil-slice", "/cache/evil-conmon", "/cache/honest"):
    ev = w.get(name)
    if ev is None:
        bad.append(f"{name}: no event")
        continue
    c = ev.get("container") or {}
    print(f"# {name}: container {str(c.get('id'))[:12]} pod {c.get('pod_uid')} "
          f"cross_pod {ev.get('cross_pod')} ({ev.get('attribution')})")
    if c.get("id") != cid or c.get("pod_uid") != ua:
        bad.append(f"{name}: attributed to {c} ({ev.get('attribution')})")
    if ev.get("cross_pod") is not False:
        bad.append(f"{name}: cross_pod {ev.get('cross_pod')}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
