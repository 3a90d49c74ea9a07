# tests/integration/common.sh - shared helpers for scenario scripts.
# Source it first thing:  . "$top_srcdir/tests/integration/common.sh"
# Scripts use `set -euo pipefail`; exit 77 means skip (say why).
set -euo pipefail

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PODTRAIL:=$top_builddir/podtrail}"
: "${PYTHON3:=python3}"
FIXTURES="$top_srcdir/tests/fixtures"
GOLDEN="$top_srcdir/tests/golden"
# valgrind or similar, set by `scripts/check --valgrind`
PODTRAIL_WRAPPER=${PODTRAIL_WRAPPER:-}

TEST_NAME=$(basename "$0" .sh)
# a private directory per test, removed at exit
T=$(mktemp -d "/tmp/podtrail-$TEST_NAME.XXXXXX")

_cleanups=()
# add_cleanup CMD...: run at exit, last added first
add_cleanup() { _cleanups+=("$*"); }
_run_cleanups() {
	local rc=$? i
	set +e
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}"
	done
	# PODTRAIL_KEEP_TMP=1 keeps a failed test's directory for a look
	if [ $rc -ne 0 ] && [ -n "${PODTRAIL_KEEP_TMP:-}" ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap _run_cleanups EXIT

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

# run podtrail, through the wrapper when one is set
podtrail() { $PODTRAIL_WRAPPER "$PODTRAIL" "$@"; }
# for the background: `podtrail_exec ARGS &` makes $! podtrail's own pid;
# it must not inherit the audit lock (fd 9) and outlive the test with it
podtrail_exec() { exec $PODTRAIL_WRAPPER "$PODTRAIL" "$@" 9>&-; }

# wait_for SECONDS CMD...: poll CMD until it succeeds; fail at the deadline
# (deadlines stretch by WAIT_SCALE, e.g. under valgrind)
wait_for() {
	local secs=$1 end
	shift
	end=$((SECONDS + secs * ${WAIT_SCALE:-1}))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# free_port: print a TCP port nobody listens on (loopback), reserved for
# this test until it exits. Picked outside the kernel's ephemeral range:
# a port from that range can be taken by any outgoing connection on the
# machine between the pick and the server's bind (402 once lost its
# receiver that way). The reservation (a directory under
# /tmp/podtrail-test-ports) keeps tests running at once apart; one left
# by a killed test is stale after two hours.
PORT_DIR=/tmp/podtrail-test-ports
free_port() {
	"$PYTHON3" - "$PORT_DIR" "$T/ports" <<'PY'
import os, random, socket, sys, time
d, mine = sys.argv[1], sys.argv[2]
lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
pool = [p for p in range(10000, 65536) if not lo <= p <= hi]
os.makedirs(d, exist_ok=True)
for _ in range(2000):
    p = random.choice(pool)
    path = "%s/%d" % (d, p)
    try:
        os.mkdir(path)
    except FileExistsError:
        try:
            if time.time() - os.stat(path).st_mtime < 7200:
                continue
            os.utime(path)
        except OSError:
            continue
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        os.rmdir(path)
        continue
    finally:
        s.close()
    with open(mine, "a") as f:
        f.write("%d\n" % p)
    print(p)
    sys.exit(0)
sys.exit("free_port: no free port outside the ephemeral range %d-%d" % (lo, hi))
PY
}
_free_ports() {
	local p
	[ -f "$T/ports" ] || return 0
	while read -r p; do rmdir "$PORT_DIR/$p" 2>/dev/null; done <"$T/ports"
}
add_cleanup _free_ports

# ---- kernel audit state -------------------------------------------------
# Tests that touch kernel audit state take one machine-wide lock, save
# `enabled` and restore it at exit, and remove only the rules they
# added (each test uses its own key, see audit_key).

audit_status() { auditctl -s 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }

need_audit() {
	need_root
	need_cmd auditctl
	auditctl -s >/dev/null 2>&1 || skip "kernel audit is not available (auditctl -s failed)"
	# braces: a bare `exec 9>F 2>/dev/null` would silence stderr for good
	{ exec 9>/run/lock/podtrail-audit.lock; } 2>/dev/null ||
		exec 9>/tmp/podtrail-audit.lock
	flock -w "${AUDIT_LOCK_WAIT:-600}" 9 || fail "could not take the audit lock"
	local en
	en=$(audit_status enabled)
	[ "$en" = 2 ] && skip "audit rules are locked (enabled 2)"
	_audit_enabled_before=$en
	add_cleanup '_audit_restore'
	auditctl -e 1 >/dev/null
}

_audit_restore() {
	local k
	# by prefix: keys made in a subshell, $(audit_key x), are covered too
	for k in $(auditctl -l 2>/dev/null |
		grep -oE -- "(key=|-k )${_audit_prefix}[A-Za-z0-9_]*" |
		sed -E 's/^(key=|-k )//' | sort -u); do
		audit_del_key "${k#key=}"
	done
	[ -n "${_audit_enabled_before:-}" ] &&
		auditctl -e "$_audit_enabled_before" >/dev/null 2>&1
	return 0
}

# audit_key NAME: a key unique to this test run; every rule whose key
# starts with this run's prefix is removed at exit
_audit_prefix="podtrail_t_${TEST_NAME//[^a-zA-Z0-9]/_}_$$_"
audit_key() { echo "${_audit_prefix}$1"; }

# burst DIR N: create, write one byte to and unlink DIR/f0 .. f(N-1) as
# fast as one process can (each file: a CREATE and a DELETE event)
burst() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = os.path.join(d, "f%d" % i)
    with open(p, "w") as f:
        f.write("x")
    os.unlink(p)
PY
}

# audit_del_key KEY: delete every loaded rule that carries KEY
audit_del_key() {
	local key=$1 line
	# `auditctl -l` prints rules as -a/-w specs (key=K, or -k K for a
	# watch); -a becomes -d, -w becomes -W
	while IFS= read -r line; do
		# shellcheck disable=SC2086
		case "$line" in
		-a*) auditctl ${line/-a/-d} >/dev/null 2>&1 ;;
		-w*) auditctl ${line/-w/-W} >/dev/null 2>&1 ;;
		esac
	done < <(auditctl -l 2>/dev/null | grep -E -- "(key=| -k )$key( |\$)" || true)
	return 0
}

# jq-free JSON queries: py_ndjson FILE 'python expression over ev' -> lines
py_ndjson() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        ev = json.loads(line)
        v = eval(expr, {"ev": ev})
        if v is not None and v is not False:
            print(v if v is not True else line)
PY
}

# check_schema FILE...: every line valid against doc/event.schema.json
check_schema() {
	"$PYTHON3" -c 'import jsonschema' 2>/dev/null ||
		skip "needs python3-jsonschema"
	"$PYTHON3" "$top_srcdir/tests/integration/schema.py" \
		"$top_srcdir/doc/event.schema.json" "$@"
}
