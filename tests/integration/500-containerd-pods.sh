#!/usr/bin/env bash
# The seed's scenario on a real containerd 1.6 (private, started here):
# two pods of one Job share an UNLISTED hostPath cache, a third pod
# writes the first one's emptyDir through a hostPath; each pod is a
# sandbox and two app containers made with `ctr -n k8s.io` in kubelet's
# cgroups (cgroupfs and systemd form) with the CRI's annotations, and
# there is no /var/log/pods. podtrail (netlink, its own rule pack) must
# find the hostPath itself, watch it while it is mounted (and no longer
# after), and name every write: pod, container, runtime, image, volume,
# host path, cross_pod; sandbox set-up mounts as the sandbox ("POD").
# A write through a symlink in the cache lands in another volume and
# must be reported there. A second podtrail, DaemonSet-like, runs in a
# private cgroup namespace (unshare -C, without CAP_SYS_ADMIN, so it
# cannot join the host's) in a pod cgroup and must attribute the same
# writes. What containerd keeps where: see containerd.sh.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/containers.sh"
. "$top_srcdir/tests/integration/containerd.sh"

need_containerd
need_cmd unshare setpriv
exec 8>&2
need_audit
exec 2>&8
# the pack uses podtrail's real keys: only run when nobody else loaded them
PACKKEYS='(key=|-k )podtrail_(mount|enospc|volume|hostpath)$'
auditctl -l | grep -Eq "$PACKKEYS" && skip "podtrail's rules are already loaded"
_audit_keys+=(podtrail_mount podtrail_enospc podtrail_volume podtrail_hostpath)
N=${N_WRITES:-10}
IMAGE=podtrail.test/busybox:1
ctrd_image "$IMAGE"

KR=$T/kubelet
UA=$(ctr_uid); UB=$(ctr_uid); UC=$(ctr_uid); UP=$(ctr_uid)
SA=$(ctr_id); A1=$(ctr_id); A2=$(ctr_id)
SB=$(ctr_id); B1=$(ctr_id); B2=$(ctr_id)
SC=$(ctr_id); C1=$(ctr_id); C2=$(ctr_id)
IDP=$(ctr_id)
EA="$KR/pods/$UA/volumes/kubernetes.io~empty-dir/scratch"
CACHE=$T/cache	# the Job's hostPath: not in podtrail's settings
CTL=$T/ctl	# a second hostPath, mounted by all pods: one watch
mkdir -p "$EA" "$KR/pods/$UB/volumes" "$KR/pods/$UC/volumes" "$CACHE" "$CTL"
chmod 0777 "$EA" "$CACHE"
chmod 0755 "$T"
CGA=/kubepods/besteffort/pod$UA
SLICEB=kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UB//-/_}.slice
CGC=/kubepods/pod$UC
ctr_forget_cgroup "kubepods/besteffort/pod$UA"
ctr_forget_cgroup "$SLICEB"
ctr_forget_cgroup "kubepods/pod$UC"
ctr_forget_cgroup "kubepods/besteffort/pod$UP"

conf() {
	cat <<CONF
source = netlink
output = file:$1
kubelet_root = $KR
runtime_state_dirs = $CTRD_STATE
pod_log_dir = $T/nologs/pods
state_dir = $2
heartbeat_interval = 0
log_level = debug
CONF
}
mkdir -p "$T/s1" "$T/s2"
{ conf "$T/out.ndjson" "$T/s1"; echo "install_rules = yes"; } >"$T/p1.conf"
conf "$T/out2.ndjson" "$T/s2" >"$T/p2.conf"
$PODTRAIL_WRAPPER "$PODTRAIL" -c "$T/p1.conf" 9>&- 2>"$T/err1" &
P1=$!
add_cleanup "kill $P1 2>/dev/null; wait $P1 2>/dev/null"
# DaemonSet-like: in a pod's cgroup, its own cgroup namespace, no CAP_SYS_ADMIN
(
	ctr_enter_cgroup "kubepods/besteffort/pod$UP/$IDP" "$BASHPID" ||
		{ echo "cannot enter the pod cgroup" >"$T/err2"; exit 1; }
	exec unshare -C setpriv --bounding-set=-sys_admin $PODTRAIL_WRAPPER \
		"$PODTRAIL" -c "$T/p2.conf" 9>&- 2>"$T/err2"
) &
P2=$!
add_cleanup "kill $P2 2>/dev/null; wait $P2 2>/dev/null"
wait_for 20 grep -q "reading audit records" "$T/err1" || { cat "$T/err1"; fail "podtrail did not start"; }
wait_for 20 grep -q "reading audit records" "$T/err2" || { cat "$T/err2"; fail "the namespaced podtrail did not start"; }
grep -q "cgroups are read relative to podtrail's own" "$T/err2" ||
	{ cat "$T/err2"; fail "the second podtrail is not in a private cgroup namespace"; }
# every hierarchy: it sees others relative to its pod cgroup, no kubepods
grep -qv "pod$UP/$IDP" "/proc/$P2/cgroup" &&
	{ cat "/proc/$P2/cgroup"; fail "the second podtrail is not in its pod cgroup everywhere"; }

pause="sleep 1000"
wait_go="while [ ! -e /ctl/go ]; do sleep 0.05; done"
# writes from the container's own shell (no fork), then two short-lived ones
writes() { echo "i=0; while [ \$i -lt $N ]; do echo $1 > /cache/$1-\$i; i=\$((i+1)); done; sh -c 'echo x > /cache/$1-fork'"; }
# pod A (cgroupfs, besteffort): a symlink in the cache leads to its emptyDir
ctrd_pod_container "$SA" "$CGA/$SA" sandbox job-a batch "$UA" "" "$IMAGE" "$SA" "$pause"
ctrd_pod_container "$A1" "$CGA/$A1" container job-a batch "$UA" worker "$IMAGE" "$SA" \
	"$wait_go; $(writes a); ln -s /scratch /cache/lnk-a; echo s > /cache/lnk-a/through-a; mkdir /cache/sub; ln -s sub /cache/rel-a; echo r > /cache/rel-a/rel-file; touch /scratch/done; $pause" \
	"$CACHE:/cache" "$CTL:/ctl" "$EA:/scratch"
ctrd_pod_container "$A2" "$CGA/$A2" container job-a batch "$UA" sidecar "$IMAGE" "$SA" "$pause" "$EA:/scratch"
# pod B (systemd form given as a cgroupfs path, burstable)
ctrd_pod_container "$SB" "/$SLICEB/cri-containerd-$SB.scope" sandbox job-b batch "$UB" "" "$IMAGE" "$SB" "$pause"
ctrd_pod_container "$B1" "/$SLICEB/cri-containerd-$B1.scope" container job-b batch "$UB" worker "$IMAGE" "$SB" \
	"$wait_go; $(writes b); $pause" "$CACHE:/cache" "$CTL:/ctl"
ctrd_pod_container "$B2" "/$SLICEB/cri-containerd-$B2.scope" container job-b batch "$UB" sidecar "$IMAGE" "$SB" "$pause"
# pod C (guaranteed): pod A's emptyDir through a hostPath
ctrd_pod_container "$SC" "$CGC/$SC" sandbox peek-0 ops "$UC" "" "$IMAGE" "$SC" "$pause"
ctrd_pod_container "$C1" "$CGC/$C1" container peek-0 ops "$UC" peeker "$IMAGE" "$SC" \
	"$wait_go; echo c > /peek/from-c; $pause" "$EA:/peek" "$CTL:/ctl"
ctrd_pod_container "$C2" "$CGC/$C2" container peek-0 ops "$UC" idle "$IMAGE" "$SC" "$pause"

# the unlisted hostPaths are found and watched, once each
watched() { auditctl -l | grep -qF -- "-w $1 -p wa -k podtrail_hostpath"; }
wait_for 30 watched "$CACHE" || { auditctl -l; grep -i hostpath "$T/err1"; fail "the Job's hostPath is not watched"; }
wait_for 30 watched "$CTL" || fail "the shared control hostPath is not watched"
[ "$(auditctl -l | grep -c podtrail_hostpath)" = 2 ] || { auditctl -l; fail "expected 2 hostPath watches"; }
note "ok: hostPaths found and watched: $CACHE, $CTL"
: >"$CTL/go"
wait_for 30 test -e "$EA/done" -a -e "$CACHE/b-fork" -a -e "$EA/from-c" ||
	fail "the containers did not write"
done_writing() {
	[ "$(py_ndjson "$1" "any(p.get('name') in ('/cache/a-fork', '/cache/b-fork', '/peek/from-c', '/cache/rel-a/rel-file') and p.get('nametype') == 'CREATE' for p in ev.get('paths', []))" | wc -l)" -ge 4 ]
}
wait_for 30 done_writing "$T/out.ndjson" || note "not every write event arrived"
wait_for 30 done_writing "$T/out2.ndjson" || note "not every write event arrived at the second podtrail"

# gone with the last container that mounts them (after the 30 s grace)
for id in "$A1" "$A2" "$SA" "$B1" "$B2" "$SB" "$C1" "$C2" "$SC"; do ctrd_rm "$id"; done
wait_for 90 sh -c "! auditctl -l | grep -q podtrail_hostpath" || {
	auditctl -l
	grep -i 'hostpath\|connector\|lost' "$T/err1" | tail -n 20
	ps -eo pid,ppid,comm,args | grep -v ' ps ' | tail -n 40
	fail "hostPath watches outlived their containers"
}
note "ok: hostPath watches removed after the containers went"
kill "$P1" "$P2"
wait "$P1" || true
wait "$P2" || true
check_schema "$T/out.ndjson" || fail "output does not match the schema"

"$PYTHON3" - "$T/out.ndjson" "$T/out2.ndjson" "$N" "$CACHE" "$EA" "$IMAGE" \
	"$UA" "$UB" "$UC" "$SA" "$A1" "$SB" "$B1" "$SC" "$C1" <<'PY'
import json, sys
out, out2, n, cache, ea, image, ua, ub, uc, sa, a1, sb, b1, sc, c1 = sys.argv[1:]
n = int(n)
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
def load(path):
    return [json.loads(l) for l in open(path) if l.strip()]
def creates(evs):
    w = {}
    for ev in evs:
        for p in ev.get("paths") or []:
            if p.get("nametype") == "CREATE" and p.get("name"):
                w[p["name"]] = (ev, p)
    return w
evs = load(out)
w = creates(evs)
pods = {ua: ("job-a", "batch"), ub: ("job-b", "batch"), uc: ("peek-0", "ops")}

def want_ctr(name, ev, cid, uid, cname, qos, second=False):
    c = ev.get("container") or {}
    check(c.get("id") == cid, f"{name}: container {c.get('id')} attribution {ev.get('attribution')}")
    check(c.get("pod_uid") == uid, f"{name}: pod_uid {c.get('pod_uid')}")
    check((c.get("pod_name"), c.get("pod_namespace")) == pods[uid], f"{name}: pod {c.get('pod_name')}/{c.get('pod_namespace')}")
    check(c.get("name") == cname, f"{name}: container name {c.get('name')}")
    check(c.get("sandbox") is False, f"{name}: sandbox {c.get('sandbox')}")
    # cgroupfs says only "cri": the state dir says containerd
    check(c.get("runtime") == "containerd", f"{name}: runtime {c.get('runtime')}")
    check(c.get("image") == image, f"{name}: image {c.get('image')}")
    check(c.get("runtime_namespace") == "k8s.io", f"{name}: runtime_namespace {c.get('runtime_namespace')}")
    # seen from a pod's cgroup namespace, a QoS level above it is unknown
    check(c.get("qos") == qos or (second and c.get("qos") is None), f"{name}: qos {c.get('qos')}")

def want_cache_write(name, ev, p, cid, uid, cname, qos, second=False):
    want_ctr(name, ev, cid, uid, cname, qos, second)
    check(p.get("host_path") == f"{cache}/{name[7:]}", f"{name}: host_path {p.get('host_path')}")
    v = p.get("volume") or {}
    check(v.get("type") == "host-path" and v.get("host_path") == cache, f"{name}: volume {v}")
    users = {u.get("container_id"): u.get("pod_uid") for u in v.get("mounted_by", [])}
    check(users.get(a1) == ua and users.get(b1) == ub, f"{name}: mounted_by {users}")
    named = {u.get("container_id"): (u.get("pod_namespace"), u.get("pod_name"), u.get("container_name"))
             for u in v.get("mounted_by", [])}
    check(named.get(a1) == ("batch", "job-a", "worker") and named.get(b1) == ("batch", "job-b", "worker"),
          f"{name}: mounted_by names {named}")
    check(ev.get("cross_pod") is True, f"{name}: cross_pod {ev.get('cross_pod')}")

# every write of both Job pods, in the unlisted hostPath
for who, cid, uid, cname, qos in (("a", a1, ua, "worker", "besteffort"), ("b", b1, ub, "worker", "burstable")):
    names = [f"/cache/{who}-{i}" for i in range(n)] + [f"/cache/{who}-fork"]
    missing = [x for x in names if x not in w]
    check(not missing, f"writes not seen: {missing}")
    for name in names:
        if name in w:
            want_cache_write(name, *w[name], cid, uid, cname, qos)
print(f"# {2 * (n + 1)} writes in the unlisted hostPath checked")

# pod C writes pod A's emptyDir through a hostPath
x = w.get("/peek/from-c")
check(x is not None, "no event for pod C's write")
if x:
    ev, p = x
    want_ctr("/peek/from-c", ev, c1, uc, "peeker", "guaranteed")
    check(p.get("host_path") == f"{ea}/from-c", f"from-c: host_path {p.get('host_path')}")
    v = p.get("volume") or {}
    check(v.get("type") == "pod-volume" and v.get("pod_uid") == ua and v.get("name") == "scratch", f"from-c: volume {v}")
    check(ev.get("cross_pod") is True, f"from-c: cross_pod {ev.get('cross_pod')}")

# through symlinks: where the bytes really went
x = w.get("/cache/lnk-a/through-a")
check(x is not None, "no event for the write through the symlink")
if x:
    ev, p = x
    check(p.get("host_path") == f"{ea}/through-a", f"through symlink: host_path {p.get('host_path')}")
    v = p.get("volume") or {}
    check(v.get("type") == "pod-volume" and v.get("name") == "scratch", f"through symlink: volume {v}")
    check(ev.get("cross_pod") is False, f"through symlink: cross_pod {ev.get('cross_pod')}")
x = w.get("/cache/rel-a/rel-file")
check(x is not None, "no event for the write through the relative symlink")
if x:
    check(x[1].get("host_path") == f"{cache}/sub/rel-file", f"relative symlink: host_path {x[1].get('host_path')}")

# sandbox set-up mounts: named as the sandbox, never as an app container
for sid, uid in ((sa, ua), (sb, ub), (sc, uc)):
    mine = [ev for ev in evs if ev.get("mount") and (ev.get("container") or {}).get("id") == sid]
    check(len(mine) >= 1, f"no set-up mount attributed to sandbox {sid[:12]}")
    for ev in mine:
        c = ev["container"]
        check(c.get("name") == "POD" and c.get("sandbox") is True and c.get("pod_uid") == uid
              and c.get("pod_name") == pods[uid][0], f"sandbox mount named {c}")
    print(f"# sandbox {sid[:12]}: {len(mine)} set-up mounts named POD")

# the DaemonSet-like podtrail, in its own cgroup namespace
w2 = creates(load(out2))
right = 0
for who, cid, uid, qos in (("a", a1, ua, "besteffort"), ("b", b1, ub, "burstable")):
    for i in range(n):
        name = f"/cache/{who}-{i}"
        if name not in w2:
            bad.append(f"second podtrail: {name} not seen")
            continue
        ev, p = w2[name]
        before = len(bad)
        want_ctr(name + " (namespaced)", ev, cid, uid, "worker", qos, True)
        right += len(bad) == before
print(f"# namespaced podtrail: {right} of {2 * n} writes attributed")
for b in bad[:40]:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
