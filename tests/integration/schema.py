#!/usr/bin/env python3
"""Validate every line of NDJSON files against doc/event.schema.json.

usage: schema.py SCHEMA FILE...   (exit 0 when all lines are valid)
"""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(schema)
bad = n = 0
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            n += 1
            for err in validator.iter_errors(json.loads(line)):
                bad += 1
                loc = "/".join(str(x) for x in err.absolute_path)
                print(f"{path}:{lineno}: {loc}: {err.message[:200]}")
                break
print(f"{n} events checked against the schema, {bad} invalid")
sys.exit(1 if bad else 0)
