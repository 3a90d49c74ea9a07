#!/usr/bin/env python3
"""Print NDJSON events with chain fields removed, keys in order, for diffing.

Golden files pin what the parser makes of a log; the chain fields
(stream, seq, prev, hash) depend on the state directory, so they are dropped.
"""
import json
import sys

DROP = ("stream", "seq", "prev", "hash")

for line in sys.stdin:
    if not line.strip():
        continue
    ev = json.loads(line)
    if ev.get("type") != "audit":
        continue
    for k in DROP:
        ev.pop(k, None)
    sys.stdout.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")
