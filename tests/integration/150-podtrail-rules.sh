#!/usr/bin/env bash
# scripts/podtrail-rules: install, status, verify, remove. A second
# install changes nothing, verify notices a missing rule, and the round
# trip leaves the kernel's rule list exactly as it was.
. "$top_srcdir/tests/integration/common.sh"
need_audit
RULES=$top_srcdir/scripts/podtrail-rules
PACKKEYS='(key=|-k )podtrail_(mount|enospc|volume|hostpath)$'
auditctl -l | grep -Eq "$PACKKEYS" && skip "podtrail's rules are already loaded"
_audit_keys+=(podtrail_mount podtrail_enospc podtrail_volume podtrail_hostpath)

mkdir -p "$T/kubelet/pods" "$T/hp1" "$T/hp2"
opts=(--kubelet-root "$T/kubelet" --hostpath "$T/hp1" --hostpath="$T/hp2")
before=$(auditctl -l)

"$RULES" install "${opts[@]}" || fail "install failed"
n=$(auditctl -l | grep -Ec "$PACKKEYS")
[ "$n" = 7 ] || { auditctl -l; fail "expected 7 podtrail rules, found $n"; }
"$RULES" verify "${opts[@]}" || fail "verify after install"
note "ok: install + verify"

"$RULES" install "${opts[@]}" || fail "second install failed"
[ "$(auditctl -l | grep -Ec "$PACKKEYS")" = 7 ] || fail "second install added rules"
note "ok: install is idempotent"

"$RULES" status | grep -q "podtrail rules loaded: 7" || fail "status"
note "ok: status"

auditctl -W "$T/hp2" -p wa -k podtrail_hostpath
if "$RULES" verify "${opts[@]}" >"$T/v.out"; then
	fail "verify missed a removed rule"
fi
grep -qF -- "- w|$T/hp2|" "$T/v.out" || { cat "$T/v.out"; fail "verify did not name the missing rule"; }
note "ok: verify names a missing rule"
"$RULES" verify --kubelet-root "$T/kubelet" --hostpath "$T/hp1" || fail "verify of the smaller pack"

"$RULES" remove "${opts[@]}" || fail "remove failed"
after=$(auditctl -l)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); fail "rule list changed"; }
note "ok: remove restores the rule list exactly"
exit 0
