#!/usr/bin/env bash
# Nothing the kernel sent is lost: an independent parser (lossless.py)
# compares every record and field of real logs with podtrail's JSON, and
# all output is valid UTF-8 JSON.
. "$top_srcdir/tests/integration/common.sh"

for f in raw enriched; do
	log="$FIXTURES/recorded/$f.log"
	podtrail --source=file:"$log" --output=file:"$T/$f.ndjson" --enrich=no \
		--state-dir="$T/state"
	"$PYTHON3" "$top_srcdir/tests/integration/lossless.py" "$log" "$T/$f.ndjson" ||
		fail "$f: fields lost or altered"
	# strict UTF-8 decode of the whole output
	"$PYTHON3" -c 'import sys; open(sys.argv[1], encoding="utf-8", errors="strict").read()' \
		"$T/$f.ndjson" || fail "$f: output is not valid UTF-8"
done

# hostile names come out exactly, escaped per the documented rule
"$PYTHON3" - "$T/raw.ndjson" <<'PY' || fail "odd arguments not preserved"
import json, sys
want = ["/bin/echo", "two words", "line1\nline2", 'dq"inside', "sq'inside",
        "100%", "%s%n", "back\\\\slash", "nonutf8-\\xff\\xfe", "", "plain",
        "tab\there", "esc-\x1b[31m", "utf8-\u00fcn\u00efc\u00f6d\u00e9", "-n"]
for line in open(sys.argv[1], encoding="utf-8"):
    ev = json.loads(line)
    if (ev.get("process") or {}).get("argv") == want:
        sys.exit(0)
sys.exit(1)
PY
note "odd execve arguments exact"

# what the kernel can send that libauparse reads lossily: a type libaudit
# has no name for, fields with no value, anonymous paths (name=(null),
# as containerd-shim's overlay mounts make), a NUL inside a record
"$PYTHON3" - "$T/odd.log" <<'PY'
import sys
ts = "msg=audit(1795966200.%03d:%d):"
recs = []
recs.append("type=SYSCALL %s arch=c000003e syscall=165 success=yes exit=0 items=2 "
            "ppid=1 pid= auid=0 uid=0 comm=\"shim\" exe=\"/bin/shim\" key=" % (ts % (1, 901)))
recs.append('type=CWD %s cwd="/run/containerd"' % (ts % (1, 901)))
recs.append("type=PATH %s item=0 name=(null) inode=7 dev=00:2e mode=040755 "
            "ouid=0 ogid=0 rdev=00:00 nametype=UNKNOWN cap_fp=0" % (ts % (1, 901)))
recs.append('type=PATH %s item=1 name="(null)" inode=8 dev=00:2e mode=0100644 '
            'ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0' % (ts % (1, 901)))
recs.append("type=PROCTITLE %s proctitle=7368696D" % (ts % (1, 901)))
recs.append("type=EOE %s " % (ts % (1, 901)))
recs.append("type=UNKNOWN[9999] %s op=probe res= nr=3" % (ts % (2, 902)))
recs.append("type=SYSCALL %s arch=c000003e syscall=2 success=yes exit=3 items=0 "
            "ppid=1 pid=5 comm=\"n\x00ul\" key=(null)" % (ts % (3, 903)))
recs.append("type=SYSCALL %s arch=c000003e syscall=2 success=yes exit=3 items=0 "
            "ppid=1 pid=6 comm=\"ok\" key=(null)" % (ts % (4, 904)))
recs.append("type=EOE %s " % (ts % (4, 904)))
open(sys.argv[1], "wb").write("\n".join(recs).encode("latin-1") + b"\n")
PY
podtrail --source=file:"$T/odd.log" --output=file:"$T/odd.ndjson" --enrich=no \
	--state-dir="$T/state" --metrics-file="$T/odd.prom" 2>"$T/odd.err"
malformed=$(awk '$1 == "podtrail_malformed_lines" { print $2 }' "$T/odd.prom")
check_schema "$T/odd.ndjson" || fail "odd records: not as the schema says"
"$PYTHON3" "$top_srcdir/tests/integration/lossless.py" "$T/odd.log" "$T/odd.ndjson" \
	"$malformed" || fail "odd records: fields lost or altered"
grep -q "NUL byte inside a record" "$T/odd.err" || fail "the NUL record was not reported"
"$PYTHON3" - "$T/odd.ndjson" <<'PY' || fail "anonymous path or unknown type not as the kernel sent it"
import json, sys
evs = {e["serial"]: e for e in map(json.loads, open(sys.argv[1])) if e["type"] == "audit"}
p = evs[901]["paths"]
assert p[0]["name"] is None and p[0].get("anonymous") is True, p[0]
assert p[1]["name"] == "(null)" and "anonymous" not in p[1], p[1]
assert evs[901]["records"][0]["key"] == "" and evs[901]["records"][0]["pid"] == ""
assert evs[902]["records"][0]["type"] == "UNKNOWN[9999]"
assert evs[902]["records"][0]["res"] == ""
PY
note "UNKNOWN[9999], empty values, name=(null) and a NUL record: exact, or counted"

