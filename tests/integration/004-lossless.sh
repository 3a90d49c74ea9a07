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
