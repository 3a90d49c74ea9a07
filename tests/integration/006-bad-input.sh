#!/usr/bin/env bash
# Bad input on the audit text stream, through --source=stdin and
# --source=file: garbage, binary bytes, truncated lines, a record over
# 8 KiB, an EXECVE with 10,000 arguments, hostile path names, JSON and
# log-injection attempts in comm and argv, interleaved events, events
# without EOE. podtrail must exit 0 at EOF, write valid UTF-8 NDJSON,
# keep every well-formed event, decode hostile values exactly (escape
# rule of include/text.h) and report the lines it dropped.
. "$top_srcdir/tests/integration/common.sh"

"$PYTHON3" - "$T" <<'PY'
import os, random, sys, json
T = sys.argv[1]
rnd = random.Random(8)
out, want = [], {}
serial = [1000]

def ts(s): return "msg=audit(1795966100.%03d:%d):" % (s % 1000, s)
def hexs(b): return b.hex().upper()
def event(comm=b"c", argv=None, paths=(), eoe=True, extra=""):
    serial[0] += 1
    s = serial[0]
    recs = ["type=SYSCALL %s arch=c000003e syscall=59 success=yes exit=0 "
            "items=%d ppid=1 pid=%d auid=1000 uid=0 comm=%s exe=\"/bin/x\" "
            "key=(null)%s" % (ts(s), len(paths), s, hexs(comm), extra)]
    if argv is not None:
        # the kernel splits EXECVE into records of at most ~7.5 KiB
        line, first = "argc=%d" % len(argv), True
        for i, a in enumerate(argv):
            f = " a%d=%s" % (i, hexs(a) if a else '""')
            if len(line) + len(f) > 7500:
                recs.append("type=EXECVE %s %s" % (ts(s), line.strip()))
                line = ""
            line += f
        recs.append("type=EXECVE %s %s" % (ts(s), line.strip()))
    recs.append('type=CWD %s cwd="/"' % ts(s))
    for i, p in enumerate(paths):
        recs.append("type=PATH %s item=%d name=%s inode=%d nametype=CREATE" %
                    (ts(s), i, hexs(p), 100 + i))
    if eoe:
        recs.append("type=EOE %s " % ts(s))
    want[s] = dict(comm=comm, argv=argv, paths=list(paths))
    return recs

def esc(b):
    # include/text.h: valid UTF-8 kept, backslash doubled, others \xHH
    r, i = [], 0
    while i < len(b):
        for n in (4, 3, 2, 1):
            try:
                ch = b[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and ch not in "\\\x00":
                r.append(ch); i += n; break
        else:
            r.append("\\\\" if b[i] == 0x5c else "\\x%02x" % b[i]); i += 1
    return "".join(r)

lines, bad = [], 0
lines += event(b"plain")
lines.append("this is not an audit record"); bad += 1
lines.append("type=SYSCALL msg=audit(1795966100.000:77"); bad += 1   # truncated
lines += event(b"x", argv=[b"/bin/sh", b"-c", b"echo hi"])
lines += event(b'"}{"type":"podtrail_loss"', argv=[b'\n{"fake":1}', b'a\\"b', b"\r\n"])
lines += event(b"\xff\xfe\x1b[31m", paths=[b"/tmp/new\nline", b'/tmp/q"uo\'te', b"/tmp/100%s%n",
               b"/tmp/\xff\xfenonutf8", b"/tmp/caf\xc3\xa9", b"/tmp/back\\slash", b"/tmp/nul\x00x"])
lines += event(b"big", paths=[b"/" + b"d" * 9000])          # a record over 8 KiB
lines += event(b"many", argv=[b"arg%d" % i for i in range(10000)])
# interleaved records of two events, the first without EOE
a, b = event(b"ia", eoe=False), event(b"ib")
for x, y in zip(a, b):
    lines += [x, y]
lines += b[len(a):]
lines += event(b"noeoe", eoe=False)
# stamps libauparse would drop without a word: counted as malformed
lines.append("type=SYSCALL msg=audit(99999999999999999999.000:1500): syscall=2 pid=1"); bad += 1
lines.append("type=SYSCALL msg=audit(1795966100.000:18446744073709551616): syscall=2"); bad += 1
lines.append("type=SYSCALL msg=audit(9223372036854776.000:1501): syscall=2 pid=1"); bad += 1
# libauparse reads no field of a stamp of 0 s; the first second is fine
lines.append("type=SYSCALL msg=audit(0.000:1502): syscall=2 pid=1"); bad += 1
lines += ["type=SYSCALL msg=audit(1.000:77): arch=c000003e syscall=2 success=yes "
          "exit=0 items=0 ppid=1 pid=77 comm=%s exe=\"/bin/x\"" % hexs(b"epoch"),
          "type=EOE msg=audit(1.000:77): "]
want[77] = dict(comm=b"epoch", argv=None, paths=[])
text = "\n".join(lines).encode() + b"\n"
# binary garbage between good events, bounded, on its own lines
blob = os.urandom(16384).replace(b"\n", b" ")
text = text.replace(b"this is not an audit record\n",
                    b"this is not an audit record\n" + blob + b"\n", 1)
bad += 1
text += event(b"last")[0].encode() + b"\n" + "\n".join(event(b"tail")[:-1]).encode()  # no final newline
del want[serial[0] - 1]  # 'last' has only its SYSCALL line: still an event
want[serial[0] - 1] = dict(comm=b"last", argv=None, paths=[])
open(os.path.join(T, "in.log"), "wb").write(text)
json.dump({"bad": bad, "want": {k: dict(comm=esc(v["comm"]),
           argv=None if v["argv"] is None else [esc(x) for x in v["argv"]],
           paths=[esc(p) for p in v["paths"]]) for k, v in want.items()}},
          open(os.path.join(T, "want.json"), "w"))
PY

check_out() {
	"$PYTHON3" - "$1" "$T/want.json" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")          # strict: invalid UTF-8 fails here
want = json.load(open(sys.argv[2]))["want"]
got = {}
for line in text.split("\n")[:-1]:
    ev = json.loads(line)           # one JSON object per line, no injection
    assert isinstance(ev, dict), line[:200]
    if ev["type"] in ("podtrail_key", "podtrail_checkpoint"):
        continue                    # the run's own signed events
    assert ev["type"] == "audit", line[:200]
    got[str(ev["serial"])] = ev
assert text.endswith("\n")
missing = sorted(set(want) - set(got), key=int)
extra = sorted(set(got) - set(want), key=int)
assert not missing and not extra, ("missing", missing, "extra", extra)
for s, w in want.items():
    p = got[s]["process"]
    assert p["comm"] == w["comm"], (s, p["comm"], w["comm"])
    if w["argv"] is not None:
        assert p.get("argv") == w["argv"], (s, len(p.get("argv") or []), len(w["argv"]))
    names = [x["name"] for x in got[s]["paths"]]
    assert names == w["paths"], (s, names, w["paths"])
print("%d events exact" % len(got))
PY
}

# the same bytes through a file and through stdin
podtrail --source=file:"$T/in.log" --output=file:"$T/file.ndjson" \
	--enrich=no --state-dir="$T/state" --metrics-file="$T/file.prom" 2>"$T/file.err" ||
	{ cat "$T/file.err"; fail "file source: non-zero exit"; }
check_out "$T/file.ndjson" || fail "file source: output not as expected"
# every line that is not in an event is counted
bad=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["bad"])' "$T/want.json")
grep -qx "podtrail_malformed_lines $bad" "$T/file.prom" ||
	fail "malformed lines: want $bad, $(grep malformed "$T/file.prom")"
podtrail --source=stdin --output=- --enrich=no --state-dir="$T/state" \
	<"$T/in.log" >"$T/stdin.ndjson" 2>"$T/stdin.err" ||
	{ cat "$T/stdin.err"; fail "stdin source: non-zero exit"; }
check_out "$T/stdin.ndjson" || fail "stdin source: output not as expected"
# the second run continues the chain: compare without the chain fields
norm() { "$PYTHON3" "$top_srcdir/tests/integration/normalize.py" <"$1"; }
cmp -s <(norm "$T/file.ndjson") <(norm "$T/stdin.ndjson") ||
	fail "file and stdin outputs differ"
# dropped lines are reported, not silently lost
grep -q "dropped an audit input line" "$T/stdin.err" ||
	{ cat "$T/stdin.err"; fail "malformed input was not reported"; }
note "garbage, binary, truncated and oversize input: every good event kept, exactly"

# nothing but binary bytes: exit 0, no events, no crash
head -c 262144 /dev/urandom >"$T/random.bin"
podtrail --source=file:"$T/random.bin" --output=file:"$T/random.ndjson" \
	--enrich=no --state-dir="$T/state" 2>"$T/random.err" ||
	{ cat "$T/random.err"; fail "random bytes: non-zero exit"; }
# (only the run's own signed podtrail_key and closing checkpoint)
! grep -v '"type":"podtrail_key"\|"type":"podtrail_checkpoint"' "$T/random.ndjson" ||
	fail "random bytes produced events"
note "256 KiB of random bytes: exit 0, nothing emitted"
