#!/usr/bin/env bash
# Config files that are not what they should be: a device, a FIFO, a
# directory, an endless line, unknown keys, bad values (enum-like ones
# too), secrets others can read, and settings naming what is not there
# (a user, a CA file, a directory). Each: exit status 2 at once (no
# hang), a message naming the file and line, for a normal start and for
# -n alike. A key given twice: the last wins, with a warning naming both
# lines.
. "$top_srcdir/tests/integration/common.sh"
need_cmd timeout

mkfifo "$T/fifo"
mkdir "$T/dir"
"$PYTHON3" -c 'import sys; sys.stdout.write("node = " + "x" * 100000 + "\n")' >"$T/long.conf"
printf 'state_dir = %s/state\n\nno_such_key = 1\n' "$T" >"$T/unknown.conf"
printf 'batch_events = lots\n' >"$T/badvalue.conf"
printf 'k\n' >"$T/key"
chmod 644 "$T/key"
printf 'hmac_key_file = %s/key\n' "$T" >"$T/secret.conf"
printf 'node = n\nlog_level = loud\n' >"$T/loglevel.conf"
printf 'helper_threads = maybe\n' >"$T/helpers.conf"
printf 'format = xml\n' >"$T/format.conf"
printf '# least privilege\nuser = nosuchuser\n' >"$T/user.conf"
printf 'output = https://127.0.0.1:1/x\nca_file = %s/no-ca.pem\n' "$T" >"$T/ca.conf"
printf 'metrics_file = %s/no-dir/podtrail.prom\n' "$T" >"$T/metrics.conf"
printf 'source = file:%s/no.log\n' "$T" >"$T/replay.conf"
printf 'output = http://192.0.2.1/x\n' >"$T/http.conf"

# expect FILE WANT: podtrail -c FILE (with and without -n) exits 2 soon
# and says WANT
expect() {
	local mode rc
	for mode in -n run; do
		rc=0
		if [ "$mode" = -n ]; then
			timeout 20 "$PODTRAIL" -c "$1" -n </dev/null >/dev/null 2>"$T/err" || rc=$?
		else
			timeout 20 "$PODTRAIL" -c "$1" --state-dir="$T/state" \
				--source=stdin --output=- </dev/null >/dev/null 2>"$T/err" || rc=$?
		fi
		[ "$rc" != 124 ] || fail "$1 ($mode): podtrail hung"
		[ "$rc" = 2 ] || fail "$1 ($mode): exit status $rc, want 2: $(cat "$T/err")"
		grep -qF -- "$2" "$T/err" || fail "$1 ($mode): no '$2' in: $(cat "$T/err")"
	done
	note "$(head -1 "$T/err")"
}

expect /dev/zero "/dev/zero: not a regular file"
expect "$T/fifo" "$T/fifo: not a regular file"
expect "$T/dir" "$T/dir: not a regular file"
expect "$T/long.conf" "$T/long.conf:1: line longer than"
expect "$T/unknown.conf" "$T/unknown.conf:3: unknown option 'no_such_key'"
expect "$T/badvalue.conf" "$T/badvalue.conf:1: batch_events:"
expect "$T/secret.conf" "$T/secret.conf:1: hmac_key_file: $T/key is readable by group or others"
expect "$T/loglevel.conf" "$T/loglevel.conf:2: log_level: 'loud' is not error, warning, info or debug"
expect "$T/helpers.conf" "$T/helpers.conf:1: helper_threads: 'maybe' is not auto, yes or no"
expect "$T/format.conf" "$T/format.conf:1: format: 'xml' is not ndjson, elasticsearch, splunk-hec, loki or otlp"
expect "$T/user.conf" "$T/user.conf:2: user: no user 'nosuchuser'"
expect "$T/ca.conf" "$T/ca.conf:2: ca_file: $T/no-ca.pem: No such file or directory"
expect "$T/metrics.conf" "$T/metrics.conf:1: metrics_file: $T/no-dir/podtrail.prom: $T/no-dir: No such file"
[ ! -e "$T/state" ] || fail "a refused config still created the state dir"

# expect_n WANT ARGS...: podtrail -n ARGS exits 2 and says WANT (source
# and output: expect's run mode sets them by flag, which wins)
expect_n() {
	local want=$1 rc=0
	shift
	timeout 20 "$PODTRAIL" -n "$@" </dev/null >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "-n $*: exit status $rc, want 2: $(cat "$T/err")"
	grep -qF -- "$want" "$T/err" || fail "-n $*: no '$want' in: $(cat "$T/err")"
	note "$(head -1 "$T/err")"
}
expect_n "$T/replay.conf:1: source: $T/no.log: No such file" -c "$T/replay.conf"
expect_n "$T/http.conf:1: output: plain http:// is refused" -c "$T/http.conf"
# a flag names itself
expect_n "podtrail: --ca_file: $T/no-ca.pem: No such file" --ca-file="$T/no-ca.pem"
expect_n "podtrail: --user: no user 'nosuchuser'" --user=nosuchuser

# a key given twice: accepted, the last value wins, a warning names both
printf 'output = -\nstate_dir = %s/a\nnode = n\nstate_dir = %s/b\n' "$T" "$T" >"$T/twice.conf"
rc=0
timeout 20 "$PODTRAIL" -c "$T/twice.conf" -n >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 0 ] || fail "twice.conf -n: exit $rc: $(cat "$T/err")"
grep -qF "$T/twice.conf:4: state_dir given again (first at line 2); this value is used" "$T/err" ||
	fail "no warning for a key given twice: $(cat "$T/err")"
grep -q 'configuration OK' "$T/out" || fail "twice.conf -n: $(cat "$T/out")"
printf 'type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=2 success=yes exit=3 pid=1 comm="x"\n' >"$T/one.log"
timeout 20 "$PODTRAIL" -c "$T/twice.conf" --source=file:"$T/one.log" >/dev/null 2>"$T/err" ||
	fail "twice.conf: $(cat "$T/err")"
[ -d "$T/b" ] && [ ! -e "$T/a" ] || fail "the last state_dir was not the one used"
note "$(grep 'given again' "$T/err")"
