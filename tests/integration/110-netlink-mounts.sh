#!/usr/bin/env bash
# The rule pack, read over netlink multicast: classic and new-API mounts,
# a bind mount, writes in a pod's emptyDir, a write in a tmpfs emptyDir
# mounted after podtrail started, and ENOSPC under a hostPath directory.
. "$top_srcdir/tests/integration/common.sh"
need_audit
need_cmd mount umount
NEWMOUNT=$top_builddir/tests/helpers/newmount
[ -x "$NEWMOUNT" ] || skip "tests/helpers/newmount not built"
# the pack uses podtrail's real keys: only run when nobody else loaded them
PACKKEYS='(key=|-k )podtrail_(mount|enospc|volume|hostpath)$'
auditctl -l | grep -Eq "$PACKKEYS" && skip "podtrail's rules are already loaded"
# fallback only: podtrail removes its own rules at exit
_audit_keys+=(podtrail_mount podtrail_enospc podtrail_volume podtrail_hostpath)

K=$T/kubelet
POD=$K/pods/0c8e-uid/volumes/kubernetes.io~empty-dir
mkdir -p "$POD/data" "$POD/cache" "$T/hp" "$T/mnt" "$T/bindsrc" "$T/bind" "$T/nm"
OUT=$T/out.json
# not through the podtrail function: $! must be podtrail itself
$PODTRAIL_WRAPPER "$PODTRAIL" 9>&- --state-dir="$(mktemp -d -p "$T")" --source=netlink --install-rules --kubelet-root="$K" \
	--hostpath="$T/hp" --output="file:$OUT" --heartbeat-interval=0 \
	2>"$T/err" &
PID=$!
add_cleanup "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
add_cleanup "umount -l '$POD/cache' '$T/hp/full' '$T/mnt' '$T/bind' '$T/nm' 2>/dev/null"
wait_for 20 grep -q "reading audit records" "$T/err" || { cat "$T/err"; fail "podtrail did not start"; }
# what podtrail loaded is what the installer script would load
"$top_srcdir/scripts/podtrail-rules" verify --kubelet-root "$K" --hostpath "$T/hp" ||
	fail "podtrail's pack and podtrail-rules disagree"

# The first matching rule names the key. A rule another test left on
# mount(2) would take it, so for mount(2) such a key is accepted too.
MOUNTKEY="(ev['key'] == 'podtrail_mount' or str(ev['key']).startswith('podtrail_t_'))"
# grep -c reads to the end: with -q, many matches (another podtrail's
# ENOSPC flood) killed py_ndjson with SIGPIPE and pipefail failed it
has() { [ "$(py_ndjson "$OUT" "$1" | grep -c .)" -gt 0 ]; }
expect() {
	wait_for 20 has "$1" || { cat "$T/err"; tail -5 "$OUT"; fail "no event: $2"; }
	note "ok: $2"
}

mount -t tmpfs -o size=1m none "$T/mnt"
umount "$T/mnt"
expect "ev.get('syscall') == 'mount' and $MOUNTKEY and any(p['name'] == '$T/mnt' for p in ev['paths'])" "mount(2) of a tmpfs"
expect "ev.get('syscall') == 'umount2' and ev['key'] == 'podtrail_mount' and ev['success'] and any(p['name'] == '$T/mnt' for p in ev['paths'])" "umount2"

mount --bind "$T/bindsrc" "$T/bind"
umount "$T/bind"
expect "ev.get('syscall') == 'mount' and $MOUNTKEY and sorted(p['name'] for p in ev['paths']) == ['$T/bind', '$T/bindsrc']" "bind mount"

"$NEWMOUNT" "$T/nm"
umount "$T/nm"
for sc in fsopen fsconfig fsmount; do
	expect "ev.get('syscall') == '$sc' and ev['key'] == 'podtrail_mount' and ev['success']" "$sc"
done
expect "ev.get('syscall') == 'move_mount' and ev['key'] == 'podtrail_mount' and any(p['name'] == '$T/nm' for p in ev['paths'])" "move_mount"

echo data >"$POD/data/file"
expect "ev.get('syscall') == 'openat' and ev['key'] == 'podtrail_volume' and any(p['name'] == '$POD/data/file' and p['nametype'] == 'CREATE' for p in ev['paths'])" "file created and written in an emptyDir"

# memory-backed emptyDir mounted after the rules were loaded
mount -t tmpfs -o size=1m none "$POD/cache"
wait_for 20 sh -c "auditctl -l | grep -qF -- '-w $POD/cache -p wa -k podtrail_volume'" ||
	fail "no watch added for the new tmpfs emptyDir"
echo data >"$POD/cache/file"
expect "ev.get('syscall') == 'openat' and ev['key'] == 'podtrail_volume' and any(p['name'] == '$POD/cache/file' for p in ev['paths'])" "write inside a tmpfs emptyDir mounted after start"
umount "$POD/cache"
wait_for 20 sh -c "! auditctl -l | grep -qF -- '$POD/cache'" ||
	fail "watch not dropped on unmount"
note "ok: watch dropped on unmount"

# a small full tmpfs under a hostPath directory
mkdir "$T/hp/full"
mount -t tmpfs -o size=8k none "$T/hp/full"
dd if=/dev/zero of="$T/hp/full/big" bs=4k count=8 2>/dev/null && fail "tmpfs did not fill"
umount "$T/hp/full"
expect "ev.get('syscall') == 'write' and ev['key'] == 'podtrail_enospc' and ev['exit'] == -28 and not ev['success']" "write failing with ENOSPC"
expect "ev.get('syscall') == 'mkdir' and ev['key'] == 'podtrail_hostpath' and any(p['name'] == '$T/hp/full' for p in ev['paths'])" "hostPath change"

kill "$PID"
wait "$PID" || fail "podtrail exited with $?"
auditctl -l | grep -Eq "$PACKKEYS" && { auditctl -l; fail "rules left behind"; }
note "rules removed at exit"
exit 0
