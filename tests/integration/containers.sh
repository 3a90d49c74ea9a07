# tests/integration/containers.sh - real containers with runc and a
# busybox rootfs, placed in the cgroups a kubelet would use.
# Source after common.sh.  Needs root, runc and busybox-static.

need_containers() {
	need_root
	need_cmd runc python3
	[ -x /bin/busybox ] || skip "needs busybox-static (/bin/busybox)"
	BUSYBOX=/bin/busybox
	file -L "$BUSYBOX" 2>/dev/null | grep -q dynamic &&
		skip "/bin/busybox is not static (install busybox-static)"
	RUNC_ROOT="$T/runc"
	mkdir -p "$RUNC_ROOT"
	_ctr_ids=()
	add_cleanup '_ctr_cleanup'
}

# ctr_rootfs DIR: a minimal busybox root file system
ctr_rootfs() {
	local r=$1
	mkdir -p "$r/bin" "$r/proc" "$r/dev" "$r/sys" "$r/tmp" "$r/etc"
	cp "$BUSYBOX" "$r/bin/busybox"
	local a
	# relative links: --install -s would point at the host's path
	for a in $("$BUSYBOX" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
	done
	echo "app:x:1000:1000::/tmp:/bin/sh" >"$r/etc/passwd"
}

# ctr_uid: a fresh pod UID;  ctr_id: a fresh 64-hex container id
ctr_uid() { cat /proc/sys/kernel/random/uuid; }
ctr_id() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# ctr_bundle DIR ROOTFS CGROUPS_PATH "ARGS..." [SRC:DST ...]
# A bundle: uid 1000, read-only root, no capabilities, no terminal,
# the given bind mounts (rw).
ctr_bundle() {
	local dir=$1 rootfs=$2 cgpath=$3 args=$4
	shift 4
	mkdir -p "$dir"
	(cd "$dir" && runc spec)
	"$PYTHON3" - "$dir/config.json" "$rootfs" "$cgpath" "$args" "$@" <<'PY'
import json, sys
path, rootfs, cgpath, args = sys.argv[1:5]
mounts = sys.argv[5:]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["terminal"] = False
c["process"]["user"] = {"uid": 1000, "gid": 1000}
c["process"]["args"] = ["/bin/sh", "-c", args]
c["process"]["cwd"] = "/tmp"
for k in c["process"]["capabilities"]:
    c["process"]["capabilities"][k] = []
c["process"]["noNewPrivileges"] = True
c["linux"]["cgroupsPath"] = cgpath
# no network namespace games: keep the defaults but drop the
# namespaces that need set-up we do not test
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                            if n["type"] in ("pid", "ipc", "uts", "mount")]
c["mounts"].append({"destination": "/tmp", "type": "tmpfs",
                    "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]})
for m in mounts:
    src, dst = m.split(":", 1)
    c["mounts"].append({"destination": dst, "type": "bind", "source": src,
                        "options": ["rbind", "rw"]})
json.dump(c, open(path, "w"), indent=1)
PY
}

# ctr_run_detached NAME BUNDLE: start it in the background
ctr_run_detached() {
	local name=$1 bundle=$2
	_ctr_ids+=("$name")
	runc --root "$RUNC_ROOT" run --detach --bundle "$bundle" "$name" \
		</dev/null >"$T/$name.out" 2>"$T/$name.err"
}

# ctr_run NAME BUNDLE: run to completion in the foreground
ctr_run() {
	local name=$1 bundle=$2
	_ctr_ids+=("$name")
	runc --root "$RUNC_ROOT" run --bundle "$bundle" "$name" \
		</dev/null >"$T/$name.out" 2>"$T/$name.err"
}

# ctr_state NAME: running, stopped, ... or nothing once deleted
ctr_state() {
	runc --root "$RUNC_ROOT" state "$1" 2>/dev/null |
		sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'
}

ctr_stop() {
	runc --root "$RUNC_ROOT" kill "$1" KILL >/dev/null 2>&1 || true
	local i
	for i in $(seq 1 100); do
		[ "$(ctr_state "$1")" = running ] || break
		sleep 0.05
	done
	runc --root "$RUNC_ROOT" delete --force "$1" >/dev/null 2>&1 || true
}

_ctr_cleanup() {
	local n
	for n in "${_ctr_ids[@]:-}"; do
		[ -n "$n" ] && ctr_stop "$n"
	done
	for n in "${_ctr_cgroups[@]:-}"; do
		[ -n "$n" ] && _ctr_rm_cgroup "$n"
	done
	return 0
}

# ctr_forget_cgroup REL: remove the cgroup directories runc leaves at
# REL (e.g. kubepods/burstable/pod<uid>) in every hierarchy, deepest first
# (after the containers are deleted: runc delete may touch them)
_ctr_cgroups=()
ctr_forget_cgroup() { _ctr_cgroups+=("$1"); }
_ctr_rm_cgroup() {
	local d p
	for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		# and the parents we created, if nobody else uses them
		p=$1
		while [ "${p%/*}" != "$p" ]; do
			p=${p%/*}
			rmdir "${d%/"$1"}/$p" 2>/dev/null || break
		done
	done
	return 0
}

# ctr_enter_cgroup REL PID: move PID into cgroup REL (e.g. kubepods/
# besteffort/pod<uid>/<id>) in every hierarchy, as a runtime places a
# container (cpuset levels get their parent's cpus and mems). Register
# REL's pod level with ctr_forget_cgroup for removal.
ctr_enter_cgroup() {
	local rel=$1 pid=$2 h p part
	for h in /sys/fs/cgroup/* /sys/fs/cgroup; do
		[ -e "$h/cgroup.procs" ] || continue
		p=$h
		for part in ${rel//\// }; do
			mkdir -p "$p/$part" || return 1
			if [ -e "$p/$part/cpuset.cpus" ] && [ -z "$(cat "$p/$part/cpuset.cpus")" ]; then
				cat "$p/cpuset.cpus" >"$p/$part/cpuset.cpus"
				cat "$p/cpuset.mems" >"$p/$part/cpuset.mems"
			fi
			p=$p/$part
		done
		echo "$pid" >"$p/cgroup.procs" || return 1
	done
}

# ctr_context CONFIG KIND: the security context of a bundle made by
# ctr_bundle, as tests/integration/800 and the demo use them:
#   scanner   the seed's scanner: uid 1000, no capabilities, no_new_privs,
#             a seccomp filter, read-only root, its own network and
#             cgroup namespaces
#   onecap    the scanner with net_bind_service in every set
#   priv      privileged: root, every capability we hold, no seccomp,
#             read-write root, the host's network namespace
ctr_context() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import json, sys
path, kind = sys.argv[1:]
c = json.load(open(path))
ns = c["linux"]["namespaces"]
last = int(open("/proc/sys/kernel/cap_last_cap").read())
# "every capability" is every one we hold: a runtime cannot grant more
bnd = int([l.split()[1] for l in open("/proc/self/status") if l.startswith("CapBnd:")][0], 16)
names = ["CAP_" + n for n in (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
    "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK "
    "IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN "
    "SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE "
    "AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND "
    "AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE").split()][:last + 1]
names = [n for i, n in enumerate(names) if bnd >> i & 1]
seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
           "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
           "syscalls": [{"names": ["kexec_load", "open_by_handle_at"],
                         "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
if kind in ("scanner", "onecap"):
    ns += [{"type": "network"}, {"type": "cgroup"}]
    c["linux"]["seccomp"] = seccomp
if kind == "onecap":
    for k in ("bounding", "effective", "permitted", "inheritable", "ambient"):
        c["process"]["capabilities"][k] = ["CAP_NET_BIND_SERVICE"]
if kind == "priv":
    ns.append({"type": "cgroup"})
    c["process"]["user"] = {"uid": 0, "gid": 0}
    for k in ("bounding", "effective", "permitted", "inheritable"):
        c["process"]["capabilities"][k] = names
    c["process"]["noNewPrivileges"] = False
    c["root"]["readonly"] = False
    c["linux"].pop("seccomp", None)
json.dump(c, open(path, "w"), indent=1)
PY
}
