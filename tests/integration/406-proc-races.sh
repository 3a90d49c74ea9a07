#!/usr/bin/env bash
# /proc races: a storm of processes that live a millisecond, some of
# them moving themselves into a kubelet-style container cgroup before
# their watched write, some in their own mount namespace, while podtrail
# (netlink, enrichment and process connector on) reads /proc behind
# them. Checks: no crash, every write emitted once, a host writer (also
# in its own mount namespace) never given a container, a container
# writer never given another container.
# Writers that hop cgroups around their write are counted and reported,
# not asserted: the connector learns a cgroup at exec and /proc shows
# only the present (see the known limit printed at the end).
. "$top_srcdir/tests/integration/common.sh"
exec 8>&2
need_audit
exec 2>&8
need_cmd unshare auditctl
N=${N_RACE:-150}

CGROOT=/sys/fs/cgroup/unified
[ -w "$CGROOT/cgroup.procs" ] || skip "no writable cgroup v2 hierarchy at $CGROOT"
UID_=$(cat /proc/sys/kernel/random/uuid)
ID=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
CG="$CGROOT/kubepods/besteffort/pod$UID_/$ID"
mkdir -p "$CG" || skip "cannot create a cgroup"
add_cleanup "rmdir '$CG' '$CGROOT/kubepods/besteffort/pod$UID_' 2>/dev/null; rmdir '$CGROOT/kubepods/besteffort' 2>/dev/null"

W="$T/watch"
mkdir -p "$W"
KEY=$(audit_key race)
auditctl -w "$W" -p wa -k "$KEY" >/dev/null

podtrail_exec --source=netlink --output=file:"$T/out.ndjson" \
	--state-dir="$T/state" --kubelet-root="$T/kubelet" \
	--pod-log-dir="$T/podlogs" >"$T/podtrail.log" 2>&1 &
pid=$!
add_cleanup "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
wait_for 30 grep -q "reading audit records from netlink" "$T/podtrail.log" ||
	fail "podtrail did not start: $(cat "$T/podtrail.log")"

# two writers at a time of each kind, each a fresh short-lived process
# (a bare `wait` would wait for podtrail too)
writers=()
for i in $(seq 1 "$N"); do
	sh -c "echo x > '$W/host-$i'" &
	writers+=($!)
	sh -c "echo \$\$ > '$CG/cgroup.procs' && echo x > '$W/ctr-$i'" &
	writers+=($!)
	unshare -m sh -c "echo x > '$W/mnt-$i'" &
	writers+=($!)
	sh -c "echo x > '$W/leave-$i'; echo \$\$ > '$CG/cgroup.procs'" &
	writers+=($!)
	if [ $((i % 2)) = 0 ]; then
		wait "${writers[@]}" || fail "a writer failed"
		writers=()
	fi
done
[ ${#writers[@]} = 0 ] || wait "${writers[@]}" || fail "a writer failed"
# the last write of all, then its event: everything before has been read
echo x >"$W/zz-end"
wait_for 60 grep -q 'zz-end' "$T/out.ndjson" || fail "the final event never came"
kill -0 "$pid" || fail "podtrail died: $(tail -5 "$T/podtrail.log")"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "exit status $rc"

"$PYTHON3" - "$T/out.ndjson" "$W" "$ID" "$N" <<'PY'
import json, os, sys, collections
out, w, cid, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
seen = collections.defaultdict(list)     # file -> [(attribution, container id)]
for line in open(out):
    e = json.loads(line)
    if e.get("type") != "audit":
        continue
    for p in e.get("paths") or []:
        name = p.get("name") or ""
        if p.get("nametype") != "CREATE" or not name.startswith(w + "/"):
            continue
        c = e.get("container")
        seen[os.path.basename(name)].append((e.get("attribution"), c and c.get("id")))
bad, stats = [], collections.Counter()
for kind in ("host", "ctr", "mnt", "leave"):
    for i in range(1, n + 1):
        f = "%s-%d" % (kind, i)
        ev = seen.get(f, [])
        if len(ev) != 1:
            bad.append("%s: %d events" % (f, len(ev)))
            continue
        attr, got = ev[0]
        stats[(kind, attr, "ctr" if got == cid else ("host" if got is None else "other"))] += 1
        if kind in ("host", "mnt") and got is not None:
            bad.append("%s: host writer given container %s (%s)" % (f, got, attr))
        if kind == "ctr" and got is not None and got != cid:
            bad.append("%s: given another container %s" % (f, got))
for k in sorted(stats, key=str):
    print("# %-5s attribution=%-9s container=%-5s %d" % (k[0], k[1], k[2], stats[k]))
# Known limit, reported not asserted: the process connector learns a
# process's cgroup at exec; one that moves itself into a container
# afterwards and exits before podtrail looks is attributed as a host
# process ("connector", container null) instead of "unknown"; and one
# that moves after writing is seen in its new cgroup.
wrong = sum(v for k, v in stats.items()
            if (k[0] == "ctr" and k[2] == "host") or (k[0] == "leave" and k[2] == "ctr"))
print("# known limit: %d of %d cgroup-hopping writers attributed to the cgroup "
      "they were not in when writing" % (wrong, 2 * n))
if bad:
    print("\n".join(bad[:20]))
    sys.exit("%d problem(s)" % len(bad))
PY
