# tests/integration/https.sh - certificates, a test aggregator and audit
# text for the forwarding scenarios. Source after common.sh.
need_cmd openssl "$PYTHON3"
PODTRAIL_VERIFY=${PODTRAIL_VERIFY:-$top_builddir/podtrail-verify}
RECEIVER="$top_srcdir/tests/receiver.py"

# make_certs: $T/pki/{ca,server,client,wrong}.{crt,key}, made now
make_certs() {
	local d=$T/pki
	mkdir -p "$d"
	(
		cd "$d"
		for ca in ca wrong; do
			openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
				-subj "/CN=podtrail test $ca" -keyout $ca.key \
				-out $ca.crt >/dev/null 2>&1
		done
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		for who in server client; do
			openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" \
				-keyout $who.key -out $who.csr >/dev/null 2>&1
			openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key \
				-CAcreateserial -days 2 -extfile $who.ext \
				-out $who.crt >/dev/null 2>&1
		done
		chmod 600 ./*.key
	) || fail "openssl could not make test certificates"
}

port_open() {
	"$PYTHON3" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1"
}

# start_receiver [receiver args...]: HTTPS on $RECV_PORT, storing into
# $T/recv.ndjson; the port is kept across restarts
RECV_STORE=$T/recv.ndjson
RECV_CONTROL=$T/recv.mode
RECV_LOG=$T/recv.log
RECV_PID=
start_receiver() {
	: "${RECV_PORT:=$(free_port)}"
	touch "$RECV_STORE"
	"$PYTHON3" "$RECEIVER" --port "$RECV_PORT" --cert "$T/pki/server.crt" \
		--key "$T/pki/server.key" --store "$RECV_STORE" \
		--control "$RECV_CONTROL" --log "$RECV_LOG" "$@" &
	RECV_PID=$!
	wait_for 20 port_open "$RECV_PORT" || fail "receiver did not start"
}
stop_receiver() {
	[ -n "$RECV_PID" ] || return 0
	kill "$RECV_PID" 2>/dev/null
	wait "$RECV_PID" 2>/dev/null || true
	RECV_PID=
}
add_cleanup stop_receiver
recv_mode() { echo "$*" >"$RECV_CONTROL"; }
recv_count() { wc -l <"$RECV_STORE"; }
# recv_has N: the aggregator stored at least N events
recv_has() { [ "$(recv_count)" -ge "$1" ]; }
# recv_events: audit events stored, without podtrail's own (heartbeats
# come every minute, so a slow run, e.g. under valgrind, has more)
recv_events() { grep -c '"type":"audit"' "$RECV_STORE" || true; }
recv_events_has() { [ "$(recv_events)" -ge "$1" ]; }

# gen_audit FIRST COUNT: audit text for COUNT open() events, serials from FIRST
gen_audit() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import sys
first, n = int(sys.argv[1]), int(sys.argv[2])
out = []
for s in range(first, first + n):
    t = "1700000000.%03d:%d" % (s % 1000, s)
    out.append('type=SYSCALL msg=audit(%s): arch=c000003e syscall=2 success=yes exit=3 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=%d auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="cat" exe="/usr/bin/cat" key="podtrail_fwd"' % (t, 1000 + s))
    out.append('type=PATH msg=audit(%s): item=0 name="/etc/file%d" inode=%d dev=fe:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL' % (t, s, 4000 + s))
    out.append('type=EOE msg=audit(%s): ' % t)
sys.stdout.write("\n".join(out) + "\n")
PY
}

# start_podtrail ARGS...: podtrail reading the FIFO $T/in (held open on
# fd 7 so podtrail sees no EOF), logging to $T/podtrail.log
PT_PID=
PT_LOG_FROM=1
start_podtrail() {
	[ -p "$T/in" ] || mkfifo "$T/in"
	# log_has looks at this run's lines only
	: >>"$T/podtrail.log"
	PT_LOG_FROM=$(($(wc -l <"$T/podtrail.log") + 1))
	# PT_OUTPUT_ARGS: another output (nats.sh); no blanks in $T
	# shellcheck disable=SC2086
	$PODTRAIL_WRAPPER "$PODTRAIL" --source=stdin --state-dir="$T/state" \
		${PT_OUTPUT_ARGS:---output=https://127.0.0.1:$RECV_PORT/ingest --ca-file=$T/pki/ca.crt} \
		"$@" <"$T/in" >>"$T/podtrail.log" 2>&1 &
	PT_PID=$!
	exec 7>"$T/in"
}
# feed FIRST COUNT: send audit text to the running podtrail
feed() { gen_audit "$1" "$2" >&7; }
# stop_podtrail: SIGTERM; it must exit 0, or 1 when it reports lost
# events. 99 is a valgrind error; a signal means it died, or was stopped
# before it could catch SIGTERM (its input still in the pipe).
stop_podtrail() {
	local rc=0
	[ -n "$PT_PID" ] || return 0
	kill -TERM "$PT_PID" 2>/dev/null
	wait "$PT_PID" || rc=$?
	exec 7>&-
	PT_PID=
	case $rc in
	0 | 1) ;;
	*) fail "podtrail exited with status $rc" ;;
	esac
}
# at exit, after a failure: stop it, whatever its status
_stop_podtrail_at_exit() {
	[ -n "$PT_PID" ] || return 0
	kill -TERM "$PT_PID" 2>/dev/null
	wait "$PT_PID" 2>/dev/null
	exec 7>&-
	PT_PID=
}
kill9_podtrail() {
	kill -9 "$PT_PID"
	wait "$PT_PID" 2>/dev/null || true
	exec 7>&-
	PT_PID=
}
add_cleanup '_stop_podtrail_at_exit'
# The state dir as a tmpfs of SIZE, for a spool that fills up; the
# caller adds the unmount to its cleanup (how depends on the test).
tmpfs_state() {
	mkdir -p "$T/state"
	mount -t tmpfs -o "size=$1,mode=0700" podtrail-test "$T/state" ||
		skip "cannot mount a tmpfs"
}

spool_files() { find "$T/state/spool" -name '*.seg' 2>/dev/null | wc -l; }
dead_files() { find "$T/state/dead" -name '*.seg' 2>/dev/null | wc -l; }
# events sitting in spool segments (the name's last field)
spool_events() {
	find "$T/state/spool" -name '*.seg' 2>/dev/null |
		awk -F- '{ sub(/\.seg$/, "", $NF); n += $NF } END { print n + 0 }'
}
spool_has() { [ "$(spool_events)" -ge "$1" ]; }
# log_has PATTERN: the current (or last) start_podtrail run logged it
log_has() { grep -q -- "$1" <(tail -n +"$PT_LOG_FROM" "$T/podtrail.log"); }
# verify_json: podtrail-verify --json over what the aggregator stored
verify_json() { "$PODTRAIL_VERIFY" --json "$@" "$RECV_STORE" >"$T/verify.json" || true; }
# vq EXPR: evaluate EXPR over the --json report (r) and its first stream (s)
vq() {
	"$PYTHON3" -c 'import json,sys; r=json.load(open(sys.argv[1])); s=r["streams"][0] if r["streams"] else {}; print(eval(sys.argv[2]))' "$T/verify.json" "$1"
}
dead_has() { [ "$(dead_files)" -ge "$1" ]; }
dead_events() {
	find "$T/state/dead" -name '*.seg' 2>/dev/null |
		awk -F- '{ sub(/\.seg$/, "", $NF); n += $NF } END { print n + 0 }'
}
dead_events_has() { [ "$(dead_events)" -ge "$1" ]; }
spool_empty() { [ "$(spool_files)" = 0 ]; }

# cpu_share PID SECONDS: percent of one core PID used over SECONDS (a
# busy-loop check with a generous bound, not a benchmark)
cpu_share() {
	local a b hz
	hz=$(getconf CLK_TCK)
	a=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
	sleep "$2"
	b=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
	echo $(( (b - a) * 100 / (hz * $2) ))
}
# no_busy_loop WHAT: podtrail ($PT_PID) stays under 20% of a core for 5 s
no_busy_loop() {
	local pct
	pct=$(cpu_share "$PT_PID" 5)
	note "$1: podtrail used ${pct}% of a core over 5 s"
	[ "$pct" -lt 20 ] || fail "$1: busy loop (${pct}% of a core)"
}
# recv_requests STATUS: requests the receiver logged with that status
recv_requests() { awk -v s="$1" '$1 == s { n++ } END { print n + 0 }' "$RECV_LOG" 2>/dev/null; }

# losses_reported: every seq missing from the store (there must be
# some) is covered by a spool_full podtrail_loss event, whose counts
# add up to at least what is missing
losses_reported() {
	"$PYTHON3" - "$RECV_STORE" <<'PY' || fail "a loss went unreported"
import json, sys
seqs, ranges, audit, lost = set(), [], 0, 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    seqs.add(e["seq"])
    if e["type"] == "podtrail_loss" and e.get("cause") == "spool_full":
        ranges.append((e["lost_first_seq"], e["lost_last_seq"]))
        lost += e["lost_events"]
    elif e["type"] == "audit":
        audit += 1
missing = set(range(1, max(seqs) + 1)) - seqs
uncovered = [s for s in missing if not any(a <= s <= b for a, b in ranges)]
print("# stored %d events (%d audit), %d seqs missing, "
      "%d reported lost in %d loss events" %
      (len(seqs), audit, len(missing), lost, len(ranges)))
if not missing:
    sys.exit("nothing was lost: the disk never filled?")
# reports repeat earlier losses until one of them is delivered, so the
# sum may exceed what is missing; it may never fall short
if lost < len(missing):
    sys.exit("%d seqs missing but %d reported lost" % (len(missing), lost))
if uncovered:
    sys.exit("missing seqs not covered by a podtrail_loss: %s" % uncovered[:10])
PY
}
