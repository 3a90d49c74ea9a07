#!/usr/bin/env bash
# podtrail_container: what the kernel enforces on real runc containers,
# read from /proc when podtrail first sees each one in an event, and
# again for a process exec'd into a container with more than it had.
# Three containers made from OCI configs: the seed's scanner (uid 1000,
# every capability dropped, no_new_privs, a seccomp filter, read-only
# root, its own network and cgroup namespaces), a privileged one (root,
# every capability, no seccomp, read-write root, the host's network
# namespace) and the scanner with one capability added. Each is reported
# exactly as its config and the kernel (/proc, read here independently)
# say; with a policy_file demanding the scanner's context, the second
# and third are flagged and the first is not.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/containers.sh"

need_containers
exec 8>&2
need_audit
exec 2>&8

KR="$T/kubelet"
mkdir -p "$KR/pods"
chmod 0755 "$T"
ctr_rootfs "$T/rootfs"
declare -A UID_OF ID_OF
for c in scanner priv onecap; do
	UID_OF[$c]=$(ctr_uid)
	ID_OF[$c]=$(ctr_id)
	d="$KR/pods/${UID_OF[$c]}/volumes/kubernetes.io~empty-dir/work"
	mkdir -p "$d"
	chmod 0777 "$d"
done
# kubelet's log directory names the pods (namespace_name_uid/container)
mkdir -p "$T/log/pods/scans_scanner-0_${UID_OF[scanner]}/scan" \
	"$T/log/pods/ops_priv-0_${UID_OF[priv]}/agent" \
	"$T/log/pods/ops_netbind-0_${UID_OF[onecap]}/web"

# the baseline: everything the scanner has; kube-system is exempt
cat >"$T/policy" <<'POL'
# exemption first: the first matching line applies
kube-system: 
*/*: non_root, no_capabilities, no_new_privs, seccomp, read_only_root, no_host_namespaces
POL

for c in scanner priv onecap; do
	ctr_bundle "$T/b-$c" "$T/rootfs" "/kubepods/burstable/pod${UID_OF[$c]}/${ID_OF[$c]}" \
		"echo x > /work/ctx-$c; exec sleep 30" \
		"$KR/pods/${UID_OF[$c]}/volumes/kubernetes.io~empty-dir/work:/work"
	ctr_forget_cgroup "kubepods/burstable/pod${UID_OF[$c]}"
	ctr_context "$T/b-$c/config.json" "$c"
done

KW=$(audit_key w)
auditctl -w "$KR/pods" -p wa -k "$KW" >/dev/null
OUT=$T/out.ndjson
$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$T/state" --source=netlink \
	--kubelet-root="$KR" --pod-log-dir="$T/log/pods" --policy-file="$T/policy" \
	--output="file:$OUT" --heartbeat-interval=0 --metrics-file="$T/metrics.prom" \
	--metrics-interval=1 2>"$T/err" &
PID=$!
add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 20 grep -q "reading audit records" "$T/err" || { cat "$T/err"; fail "podtrail did not start"; }

for c in scanner priv onecap; do
	ctr_run_detached "ctx-$c-$$" "$T/b-$c" || fail "container $c: $(cat "$T/ctx-$c-$$.err")"
done
count() { [ "$(py_ndjson "$OUT" "ev['type'] == 'podtrail_container'" | wc -l)" -ge "$1" ]; }
wait_for 30 count 3 || { cat "$T/err"; fail "not every container was reported"; }

# a process exec'd into the scanner with root and one more capability
runc --root "$RUNC_ROOT" exec --user 0:0 --cap CAP_SYS_ADMIN "ctx-scanner-$$" \
	sh -c 'echo y > /work/wider; sleep 3' &
EXEC=$!
wait_for 30 count 4 || { cat "$T/err"; note "no event for the exec'd process"; }
# the kernel's view, read here: the containers' init processes
for c in scanner priv onecap; do
	p=$(runc --root "$RUNC_ROOT" state "ctx-$c-$$" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	{ echo "[$c]"; cat "/proc/$p/status"; echo "lsm=$(tr -d '\0\n' <"/proc/$p/attr/current" 2>/dev/null || true)"; } >>"$T/kernel.txt"
done
wait $EXEC || true
wait_for 10 grep -q container_policy_violations "$T/metrics.prom" || true
kill -TERM $PID
wait $PID || fail "podtrail exited $?"
check_schema "$OUT" || fail "output does not match the schema"

"$PYTHON3" - "$OUT" "$T/kernel.txt" "$T/metrics.prom" \
	"${ID_OF[scanner]}" "${ID_OF[priv]}" "${ID_OF[onecap]}" \
	"${UID_OF[scanner]}" "${UID_OF[priv]}" "${UID_OF[onecap]}" <<'PY'
import json, sys
out, kernel, prom = sys.argv[1:4]
ids, uids = sys.argv[4:7], sys.argv[7:10]
evs = [json.loads(l) for l in open(out) if l.strip()]
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
names = ("chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap "
         "linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock "
         "ipc_owner sys_module sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin "
         "sys_boot sys_nice sys_resource sys_time sys_tty_config mknod lease audit_write "
         "audit_control setfcap mac_override mac_admin syslog wake_alarm block_suspend "
         "audit_read perfmon bpf checkpoint_restore").split()
# what the kernel said, parsed here on its own
k, cur = {}, None
for line in open(kernel):
    line = line.rstrip("\n")
    if line.startswith("["):
        cur = line[1:-1]; k[cur] = {}
    elif line.startswith("lsm="):
        k[cur]["lsm"] = line[4:] or None
    elif ":" in line:
        a, b = line.split(":", 1)
        k[cur][a] = b.split()
def caps(h):
    v = int(h, 16)
    return [names[i] if i < len(names) else f"unknown_{i}" for i in range(64) if v >> i & 1]
all_caps = caps(k["priv"]["CapBnd"][0])
expect = {
    "scanner": dict(uid=1000, euid=1000, gid=1000, egid=1000, cap_eff=[], cap_prm=[], cap_bnd=[],
                    cap_amb=[], no_new_privs=True, seccomp="filter", root_read_only=True,
                    host_namespaces=["user"], violations=[]),
    "priv": dict(uid=0, euid=0, gid=0, egid=0, cap_eff=all_caps, cap_prm=all_caps, cap_bnd=all_caps,
                 cap_amb=[], no_new_privs=False, seccomp="disabled", root_read_only=False,
                 host_namespaces=["net", "user"],
                 violations=["non_root", "no_capabilities", "no_new_privs", "seccomp",
                             "read_only_root", "no_host_namespaces"]),
    "onecap": dict(uid=1000, euid=1000, gid=1000, egid=1000, cap_eff=["net_bind_service"],
                   cap_prm=["net_bind_service"], cap_bnd=["net_bind_service"],
                   cap_amb=["net_bind_service"], no_new_privs=True, seccomp="filter",
                   root_read_only=True, host_namespaces=["user"], violations=["no_capabilities"]),
}
check(len(all_caps) >= 38, f"privileged bounding set {all_caps}")
ctx = [e for e in evs if e["type"] == "podtrail_container"]
for name, cid, uid in zip(("scanner", "priv", "onecap"), ids, uids):
    mine = [e for e in ctx if (e.get("container") or {}).get("id") == cid]
    first = [e for e in mine if e["reason"] == "first_seen"]
    check(len(first) == 1, f"{name}: {len(first)} first_seen events")
    if not first:
        continue
    e, kk = first[0], k[name]
    for f, v in expect[name].items():
        check(e.get(f) == v, f"{name}: {f} = {e.get(f)}, expected {v}")
    # the same as the kernel's own status, field by field
    check([e["uid"], e["euid"]] == [int(x) for x in kk["Uid"][:2]], f"{name}: uid vs kernel {kk['Uid']}")
    check([e["gid"], e["egid"]] == [int(x) for x in kk["Gid"][:2]], f"{name}: gid vs kernel")
    for f, kf in (("cap_eff", "CapEff"), ("cap_prm", "CapPrm"), ("cap_bnd", "CapBnd"), ("cap_amb", "CapAmb")):
        check(e[f] == caps(kk[kf][0]), f"{name}: {f} vs kernel {kk[kf]}")
    check(e["no_new_privs"] == (kk["NoNewPrivs"][0] == "1"), f"{name}: no_new_privs vs kernel")
    check(e["seccomp"] == ["disabled", "strict", "filter"][int(kk["Seccomp"][0])], f"{name}: seccomp vs kernel")
    check(e["seccomp_filters"] == int(kk["Seccomp_filters"][0]), f"{name}: seccomp_filters {e['seccomp_filters']} vs kernel {kk['Seccomp_filters']}")
    if expect[name]["seccomp"] == "filter":
        check(e["seccomp_filters"] >= 1, f"{name}: no filter counted")
    check(e["lsm"] == kk.get("lsm"), f"{name}: lsm {e['lsm']} vs kernel {kk.get('lsm')}")
    check(e["container"].get("pod_uid") == uid and e["container"].get("qos") == "burstable",
          f"{name}: identity {e['container']}")
    check(e["container"].get("pod_name") == {"scanner": "scanner-0", "priv": "priv-0", "onecap": "netbind-0"}[name],
          f"{name}: pod name {e['container'].get('pod_name')}")
    check(e["policy_rule"] == "*/*", f"{name}: policy rule {e['policy_rule']}")
    # busybox runs "exec sleep" through /proc/self/exe: comm "exe"
    check(e["pid"] > 0 and e["comm"] in ("sh", "sleep", "exe"), f"{name}: process {e['pid']} {e['comm']}")
    print(f"# {name}: uid {e['uid']}, {len(e['cap_eff'])} caps, seccomp {e['seccomp']}/{e['seccomp_filters']}, "
          f"ro root {e['root_read_only']}, host ns {e['host_namespaces']}, lsm {e['lsm']}, violations {e['violations']}")
# the exec'd process is wider than the scanner's record: reported once
w = [e for e in ctx if e["reason"] == "wider" and e["container"]["id"] == ids[0]]
check(len(w) == 1, f"{len(w)} wider events for the scanner")
if w:
    e = w[0]
    check(e["uid"] == 0 and "sys_admin" in e["cap_eff"], f"wider: uid {e['uid']} caps {e['cap_eff']}")
    check("non_root" in e["violations"] and "no_capabilities" in e["violations"], f"wider: violations {e['violations']}")
# each context event comes before the event that made podtrail look
for e in ctx:
    trig = [x for x in evs if x["type"] == "audit" and x.get("serial") == e.get("trigger_serial")]
    check(trig and trig[0]["seq"] == e["seq"] + 1, f"trigger of {e['seq']}: {[t['seq'] for t in trig]}")
text = open(prom).read()
# flagged: priv and onecap when first seen, the scanner's exec'd process
check("podtrail_container_policy_violations 3\n" in text,
      "violation counter: " + "".join(l for l in text.splitlines(True) if "violation" in l))
check('podtrail_container_violations_by_requirement{requirement="no_capabilities"}' in text, "per-requirement counter")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
