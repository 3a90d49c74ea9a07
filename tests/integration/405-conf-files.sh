#!/usr/bin/env bash
# Config files that are not what they should be: a device, a FIFO, a
# directory, an endless line, unknown keys, bad values and secrets
# others can read. Each: exit status 2 at once (no hang), a message
# naming the file (and line), for a normal start and for -n alike.
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
[ ! -e "$T/state" ] || fail "a refused config still created the state dir"
