#!/usr/bin/env python3
"""Independent check that podtrail lost nothing: every record and every
field of a raw audit log is in the JSON, with the value the kernel meant.

usage: lossless.py AUDIT_LOG EVENTS_NDJSON [MALFORMED]

A line holding a NUL byte is not a record (podtrail counts it as
malformed): with MALFORMED given, their number must be exactly that.

The log is parsed here without libauparse: split records by serial, split
fields on spaces, decode quoted and hex values, then compare with the
JSON records after undoing podtrail's documented escape (\\\\ and \\xHH).
Only kernel records are compared field by field (user-space records nest
fields inside msg='...', which auparse flattens).
"""
import json
import re
import sys
from collections import defaultdict

HEXABLE = {"name", "cwd", "exe", "comm", "proctitle", "key", "path", "ocomm",
           "data", "old", "new", "root", "watch", "dir", "obj"}
KERNEL = {"SYSCALL", "PATH", "CWD", "EXECVE", "PROCTITLE", "CONFIG_CHANGE",
          "SOCKADDR", "MMAP", "BPRM_FCAPS", "CAPSET"}
HDR = re.compile(r"^(?:node=\S+ )?type=(\S+) msg=audit\((\d+)\.(\d+):(\d+)\): ?(.*)$")


def unescape(s):
    out = bytearray()
    i = 0
    b = s.encode("utf-8")
    while i < len(b):
        if b[i:i + 2] == b"\\\\":
            out.append(0x5C); i += 2
        elif b[i:i + 2] == b"\\x":
            out.append(int(b[i + 2:i + 4], 16)); i += 4
        else:
            out.append(b[i]); i += 1
    return bytes(out)


def decode(rtype, name, raw):
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        return raw[1:-1].encode("latin-1", "surrogateescape")
    base = name.split("[")[0]
    hexable = base in HEXABLE or (rtype == "EXECVE" and re.fullmatch(r"a\d+", base))
    if hexable and raw not in ("(null)", "(none)") and len(raw) % 2 == 0 \
            and re.fullmatch(r"[0-9A-Fa-f]+", raw):
        return bytes.fromhex(raw)
    return raw.encode("latin-1", "surrogateescape")


def main():
    logpath, jsonpath = sys.argv[1], sys.argv[2]
    records = defaultdict(list)
    nul = 0
    with open(logpath, "rb") as f:
        for line in f:
            if b"\0" in line:
                nul += 1
                continue
            line = line.rstrip(b"\n").split(b"\x1d")[0].decode("latin-1")
            m = HDR.match(line)
            if not m:
                continue
            rtype, serial, body = m.group(1), int(m.group(4)), m.group(5)
            if rtype == "EOE" or rtype.startswith("DAEMON_"):
                continue  # EOE ends events; DAEMON_* use auditd's serials
            records[serial].append((rtype, body))

    events = {}
    with open(jsonpath, encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("type") == "audit":
                events.setdefault(ev["serial"], []).append(ev)

    errors = 0
    nfields = 0
    for serial, recs in records.items():
        evs = events.get(serial)
        if not evs:
            print(f"serial {serial}: no event"); errors += 1; continue
        jrecs = [r for ev in evs for r in ev["records"]]
        if [r["type"] for r in jrecs] != [t for t, _ in recs]:
            print(f"serial {serial}: record types differ: "
                  f"{[r['type'] for r in jrecs]} vs {[t for t, _ in recs]}")
            errors += 1
            continue
        for (rtype, body), jrec in zip(recs, jrecs):
            # a type libaudit has no name for is a kernel record too
            if rtype not in KERNEL and not rtype.startswith("UNKNOWN["):
                continue
            seen = defaultdict(int)
            for tok in body.split(" "):
                if "=" not in tok:
                    continue
                name, raw = tok.split("=", 1)
                want = decode(rtype, name, raw)
                got = jrec.get(name)
                if isinstance(got, list):
                    got = got[seen[name]]
                seen[name] += 1
                nfields += 1
                if got is None or unescape(got) != want:
                    print(f"serial {serial} {rtype}.{name}: want {want[:60]!r} "
                          f"got {got if got is None else got[:60]!r}")
                    errors += 1
    if len(sys.argv) > 3 and nul != int(sys.argv[3]):
        print(f"{nul} lines with a NUL, podtrail counted {sys.argv[3]} malformed")
        errors += 1
    print(f"{len(records)} events, {nfields} kernel fields compared, {errors} errors")
    sys.exit(1 if errors else 0)


main()
