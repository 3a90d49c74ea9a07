#!/usr/bin/env bash
# Kernel-side faults of the netlink sources: audit disabled (podtrail
# says no records will come, keeps running, notices when audit is back,
# exits 0 on SIGTERM) and missing capabilities (a message naming the
# capability, exit status 1). Locked rules (enabled 2) are never set on
# a shared machine: tests/unit/test_source_netlink_status.c mocks that status.
# Another registered audit daemon is covered by 130-netlink-unicast.
. "$top_srcdir/tests/integration/common.sh"
need_audit
need_cmd capsh timeout

log_has() { grep -q -- "$1" "$T/podtrail.log"; }

# audit disabled: a warning, not an exit; audit back on: noticed
auditctl -e 0 >/dev/null
podtrail_exec --source=netlink --output=file:"$T/out.ndjson" \
	--state-dir="$T/state" --status-interval=1 >"$T/podtrail.log" 2>&1 &
pid=$!
add_cleanup "kill $pid 2>/dev/null"
wait_for 30 log_has "disabled (enabled 0): no records will arrive" ||
	fail "no warning that audit is disabled"
note "$(grep -m1 "enabled 0" "$T/podtrail.log")"
kill -0 "$pid" || fail "podtrail exited with audit disabled"
auditctl -e 1 >/dev/null
wait_for 30 log_has "enabled again" || fail "audit coming back not noticed"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"

# no CAP_AUDIT_READ: the multicast group cannot be joined
rc=0
timeout 30 capsh --drop=cap_audit_read -- -c 'exec "$0" "$@" 9>&-' \
	"$PODTRAIL" --source=netlink --output=file:"$T/o2" \
	--state-dir="$T/state2" 2>"$T/err" || rc=$?
note "$(grep -v "chain stream" "$T/err" | head -1)"
[ "$rc" = 1 ] || fail "without CAP_AUDIT_READ: exit status $rc, want 1"
grep -q "needs CAP_AUDIT_READ" "$T/err" || fail "CAP_AUDIT_READ not named"

# no CAP_AUDIT_CONTROL: cannot be the audit daemon
rc=0
timeout 30 capsh --drop=cap_audit_control -- -c 'exec "$0" "$@" 9>&-' \
	"$PODTRAIL" --source=netlink-unicast --output=file:"$T/o3" \
	--state-dir="$T/state3" 2>"$T/err" || rc=$?
note "$(grep -v "chain stream" "$T/err" | head -1)"
[ "$rc" = 1 ] || fail "without CAP_AUDIT_CONTROL: exit status $rc, want 1"
grep -q "needs CAP_AUDIT_CONTROL" "$T/err" || fail "CAP_AUDIT_CONTROL not named"
