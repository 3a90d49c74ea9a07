#!/usr/bin/env bash
# Command line: help, version, -n, and clear errors with exit status 2.
. "$top_srcdir/tests/integration/common.sh"

expect_status() {
	# expect_status WANT PATTERN ARGS...: exit status and a stderr/stdout line
	local want=$1 pat=$2 rc=0
	shift 2
	podtrail "$@" >"$T/out" 2>&1 </dev/null || rc=$?
	[ "$rc" = "$want" ] || { cat "$T/out"; fail "podtrail $*: exit $rc, want $want"; }
	grep -qE -- "$pat" "$T/out" || { cat "$T/out"; fail "podtrail $*: no '$pat'"; }
}

expect_status 0 '^usage: podtrail' --help
expect_status 0 '^usage: podtrail' -h
expect_status 0 'eoe_timeout' --help
expect_status 0 '^podtrail [0-9]+\.[0-9]+' --version
expect_status 0 '^configuration OK' -n --source=file:/dev/null --output=-
expect_status 2 "unknown option '--bogus'" --bogus
expect_status 2 "unexpected argument 'stray'" stray
expect_status 2 "eoe_timeout: 'x' is not a number" --eoe-timeout=x
expect_status 2 "between 1 and 600" --eoe-timeout=0
expect_status 2 "source: 'tcp:1' is not stdin, file:PATH, netlink or netlink-unicast" -n --source=tcp:1
expect_status 2 "--output needs a value" --output
expect_status 2 "yes or no" --enrich=perhaps

# config file: values apply, command line wins, errors name file:line
cat >"$T/ok.conf" <<CONF
# comment
output = file:$T/from-conf.ndjson
eoe_timeout = 3
CONF
expect_status 0 'configuration OK' -c "$T/ok.conf" -n
printf 'output = -\nbatch_events = lots\n' >"$T/bad.conf"
expect_status 2 "$T/bad.conf:2: batch_events: 'lots' is not a number" -c "$T/bad.conf" -n
expect_status 2 "$T/missing.conf: No such file" -c "$T/missing.conf" -n

# what a setting names is checked before starting: exit 2 with the flag
expect_status 2 "podtrail: --source: $T/nope.log: No such file" --source=file:"$T/nope.log" --state-dir="$T/state"
expect_status 2 "output: 'ftp://x' is not -, file:PATH, https://..., http://... or nats://..." --source=file:/dev/null --output=ftp://x --state-dir="$T/state"

# the config file's output is used when the command line gives none
printf 'type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=2 success=yes exit=3 pid=1 comm="x"\n' >"$T/one.log"
podtrail -c "$T/ok.conf" --source=file:"$T/one.log" --state-dir="$T/state"
grep -q '"serial":1' "$T/from-conf.ndjson" || fail "config file output not used"
note "cli ok"
