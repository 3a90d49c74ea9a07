#!/usr/bin/env bash
# One event that never ends (a SYSCALL and then 10^6 PATH records of its
# serial, no EOE) and events that never end, each of its own serial:
# podtrail keeps event_max_records of the first, counts the rest on it
# ("truncated") and in the metrics, stays linear and bounded in memory,
# and exits promptly on SIGTERM in the middle of such a flood. Before
# the bound libauparse took minutes (quadratic) and ~800 MB for this,
# and the loop, waiting on it, did not act on SIGTERM.
. "$top_srcdir/tests/integration/common.sh"

# ASan's quarantine keeps freed memory: keep it small so RSS means growth
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16"

"$PYTHON3" - "$PODTRAIL" "$T" "${WAIT_SCALE:-1}" <<'PY' || fail "flood of one event"
import json, os, resource, signal, subprocess, sys, threading, time
podtrail, T, scale = sys.argv[1], sys.argv[2], int(sys.argv[3])
wrapper = os.environ.get("PODTRAIL_WRAPPER", "").split()
N = 10**6
SYS = (b'type=SYSCALL msg=audit(1795966100.000:5): arch=c000003e syscall=165 '
       b'success=yes exit=0 items=2 ppid=1 pid=2 auid=0 uid=0 comm="x" '
       b'exe="/bin/x" key=(null)\n')
PATH = (b'type=PATH msg=audit(1795966100.000:5): item=1 name="/tmp/f" inode=5 '
        b'dev=00:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL\n')
AFTER = (b'type=SYSCALL msg=audit(1795966100.001:6): arch=c000003e syscall=165 '
         b'success=yes exit=0 items=0 ppid=1 pid=3 auid=0 uid=0 comm="y" '
         b'exe="/bin/y" key=(null)\ntype=EOE msg=audit(1795966100.001:6): \n')

def run(args, feed, deadline, term_after=None):
    """podtrail ARGS with feed() written to its stdin by a thread (a
    podtrail that stops reading cannot hang the test); SIGTERM once
    term_after bytes went in, if given, while the writer goes on.
    Returns (exit status, seconds from the signal to the exit)."""
    p = subprocess.Popen(wrapper + [podtrail] + args, stdin=subprocess.PIPE,
                         stderr=open(os.path.join(T, "err"), "ab"))
    reached = threading.Event()

    def writer():
        sent = 0
        try:
            for chunk in feed():
                p.stdin.write(chunk)
                sent += len(chunk)
                if term_after is not None and sent >= term_after:
                    reached.set()
            p.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass
    th = threading.Thread(target=writer, daemon=True)
    th.start()
    took, t0 = None, time.monotonic()
    try:
        if term_after is not None:
            if not reached.wait(deadline * scale):
                raise subprocess.TimeoutExpired(args, deadline * scale)
            p.send_signal(signal.SIGTERM)
            t0 = time.monotonic()
        rc = p.wait(timeout=deadline * scale)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        sys.exit("podtrail did not finish within %d s" % (deadline * scale))
    if term_after is not None:
        took = time.monotonic() - t0
    th.join(10)
    return rc, took

def flood(n):
    def gen():
        yield SYS
        blk = PATH * 1000
        for _ in range(n // 1000):
            yield blk
        yield AFTER
    return gen

def events(path):
    """The audit events (not the run's podtrail_key and checkpoints)."""
    return [e for e in map(json.loads, open(path, encoding="utf-8"))
            if e["type"] == "audit"]

# 1. 10^6 records, on the parse worker and on the loop's thread
for helpers in ("yes", "no"):
    out = os.path.join(T, "flood-%s.ndjson" % helpers)
    met = os.path.join(T, "flood-%s.prom" % helpers)
    rc, _ = run(["--source=stdin", "--output=file:" + out, "--enrich=no",
                 "--state-dir=" + os.path.join(T, "state"),
                 "--helper-threads=" + helpers, "--metrics-file=" + met],
                flood(N), 300)
    assert rc == 0, rc
    evs = events(out)
    assert [e["serial"] for e in evs] == [5, 6], [e["serial"] for e in evs]
    big = evs[0]
    assert len(big["records"]) == 4096, len(big["records"])
    assert big["truncated"] == {"records": N + 1 - 4096,
                                "bytes": (N + 1 - 4096) * (len(PATH) - 1)}, big["truncated"]
    assert len(big["paths"]) == 4095
    assert "truncated" not in evs[1] and evs[1]["process"]["comm"] == "y"
    prom = open(met).read()
    for want in ("podtrail_events_truncated 1\n",
                 "podtrail_records_truncated %d\n" % (N + 1 - 4096)):
        assert want in prom, (want, prom)
# memory stayed bounded: peak RSS of the largest child, in KiB
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
limit = 400 * 1024 if not wrapper else 1500 * 1024
assert rss < limit, "peak RSS %d KiB" % rss
print("# 10^6-record event: 4096 kept, %d counted as truncated; peak RSS %d MiB"
      % (N + 1 - 4096, rss // 1024))

# 2. the limits are settings
out = os.path.join(T, "small.ndjson")
rc, _ = run(["--source=stdin", "--output=file:" + out, "--enrich=no",
             "--state-dir=" + os.path.join(T, "state"),
             "--event-max-records=100", "--event-max-bytes=64K"], flood(1000), 120)
assert rc == 0
big = events(out)[0]
assert len(big["records"]) == 100 and big["truncated"]["records"] == 901, big.get("truncated")
print("# event_max_records=100: 100 kept, 901 counted")

# 3. SIGTERM in the middle of an endless flood: out within seconds
def endless():
    yield SYS
    blk = PATH * 1000
    while True:
        yield blk
for helpers in ("yes", "no"):
    out = os.path.join(T, "term-%s.ndjson" % helpers)
    rc, took = run(["--source=stdin", "--output=file:" + out, "--enrich=no",
                    "--state-dir=" + os.path.join(T, "state"),
                    "--helper-threads=" + helpers],
                   endless, 20, term_after=60 * 10**6)
    assert rc == 0, rc
    evs = events(out)
    assert len(evs) == 1 and evs[0]["truncated"]["records"] > 0, len(evs)
    print("# SIGTERM mid-flood (helper_threads=%s): exit 0 after %.1f s, the event flushed"
          % (helpers, took))
PY

# 4. events that never end, each of its own serial: all of them come out
"$PYTHON3" - "$T/many.log" <<'PY'
import sys
with open(sys.argv[1], "w") as o:
    for i in range(1, 50001):
        o.write('type=SYSCALL msg=audit(1795966100.000:%d): arch=c000003e syscall=165 '
                'success=yes exit=0 items=0 ppid=1 pid=2 auid=0 uid=0 comm="x" '
                'exe="/bin/x" key=(null)\n' % i)
PY
podtrail --source=file:"$T/many.log" --output=file:"$T/many.ndjson" --enrich=no \
	--state-dir="$T/state" --metrics-file="$T/many.prom" 2>>"$T/err" &
pid=$!
add_cleanup "kill $pid 2>/dev/null"
wait_for 120 sh -c "! kill -0 $pid" || fail "50,000 open events: not done in 120 s"
wait $pid || fail "50,000 open events: non-zero exit"
[ "$(grep -c "\"type\":\"audit\"" "$T/many.ndjson")" = 50000 ] ||
	fail "50,000 open events: $(grep -c "\"type\":\"audit\"" "$T/many.ndjson") out"
grep -q '^podtrail_events_cut_open [1-9]' "$T/many.prom" || fail "events_cut_open not counted"
note "50,000 events without EOE, own serials: all 50,000 out, the oldest ended early"
grep -q "dropping the rest of it" "$T/err" || fail "truncation was not logged"
check_schema "$T/small.ndjson" || fail "a truncated event does not match the schema"
