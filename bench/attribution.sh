#!/usr/bin/env bash
# bench/attribution.sh - how many short-lived writers in real containers
# podtrail attributes to the right container. Prints figures only.
#
#   bench/attribution.sh [WRITES_PER_CONTAINER] [CONTAINERS] [USLEEP_BETWEEN]
#   CONNECTOR=no bench/attribution.sh ...   (without the process connector)
#
# Each container runs `sh -c 'echo y > /cache/f-N'` in a loop (every
# child exits within a millisecond of its write); a private auditd runs
# podtrail as its plugin. Needs root, runc, busybox-static, auditd, and
# a built tree (top_builddir, default ./build).
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
: "${top_builddir:=$top_srcdir/build}"
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/containers.sh"
. "$top_srcdir/tests/integration/auditd.sh"

W=${1:-500}
C=${2:-2}
GAP=${3:-0}

need_containers
exec 8>&2
need_audit
exec 2>&8

KR="$T/kubelet"
U=$(ctr_uid)
EDIR="$KR/pods/$U/volumes/kubernetes.io~empty-dir/cache"
mkdir -p "$EDIR"
chmod 0777 "$EDIR"
chmod 0755 "$T"
ctr_rootfs "$T/rootfs"
ids=()
for c in $(seq 1 "$C"); do
	id=$(ctr_id)
	ids+=("$id")
	ctr_bundle "$T/b$c" "$T/rootfs" "/kubepods/burstable/pod$U/$id" \
		"i=0; while [ \$i -lt $W ]; do sh -c \"echo y > /cache/c$c-\$i\"; [ $GAP = 0 ] || usleep $GAP; i=\$((i+1)); done" \
		"$EDIR:/cache"
done
ctr_forget_cgroup "kubepods/burstable/pod$U"
cat >"$T/podtrail.conf" <<CONF
source = stdin
output = file:$T/out.ndjson
kubelet_root = $KR
proc_connector = ${CONNECTOR:-yes}
state_dir = $T/state
CONF
KW=$(audit_key w)
auditctl -w "$KR/pods" -p wa -k "$KW" >/dev/null
auditd_start -c "$T/podtrail.conf"
wait_for 20 test -s "$T/out.ndjson" || true

start=$(date +%s.%N)
pids=()
for c in $(seq 1 "$C"); do
	ctr_run "bench$c-$$" "$T/b$c" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
end=$(date +%s.%N)
total=$((W * C))
have() { [ "$(grep -c "\"nametype\":\"CREATE\"" "$T/out.ndjson")" -ge "$total" ]; }
wait_for 120 have || true
auditd_stop

"$PYTHON3" - "$T/out.ndjson" "$KW" "$W" "$start" "$end" "${ids[@]}" <<'PY'
import json, sys
out, kw, w, start, end = sys.argv[1:6]
ids = sys.argv[6:]
w = int(w)
right = wrong = unknown = no_host_path = 0
seen = set()
for line in open(out):
    ev = json.loads(line)
    key = ev.get("key")
    if not (key == kw or (isinstance(key, list) and kw in key)):
        continue
    for p in ev["paths"]:
        n = p.get("name") or ""
        if p.get("nametype") != "CREATE" or not n.startswith("/cache/c"):
            continue
        c = int(n[8:].split("-")[0])
        seen.add(n)
        ctr = ev.get("container")
        if ev.get("attribution") == "unknown":
            unknown += 1
        elif ctr is None:
            wrong += 1
        elif ctr["id"] != ids[c - 1]:
            wrong += 1
        else:
            right += 1
            hp = p.get("host_path")
            if hp is None:
                no_host_path += 1
            elif not hp.endswith(n[7:]):
                wrong += 1
                right -= 1
total = w * len(ids)
missing = total - len(seen)
secs = float(end) - float(start)
print(f"writes: {total} in {secs:.1f} s ({total / secs:.0f}/s) by {len(ids)} containers")
print(f"events seen: {len(seen)} (missing {missing})")
print(f"attributed right: {right} ({100.0 * right / max(1, len(seen)):.2f}%)")
print(f"attributed wrong: {wrong} ({100.0 * wrong / max(1, len(seen)):.2f}%)")
print(f"unknown:          {unknown} ({100.0 * unknown / max(1, len(seen)):.2f}%)")
print(f"right container but no host_path: {no_host_path}")
PY
