#!/usr/bin/env python3
"""Did a burst (common.sh's `burst DIR N`) arrive whole?

usage: burst-check.py EVENTS DIR N [--metrics FILE] [--ring-peak LO:HI]
                      [--loss none|told]

EVENTS is podtrail's NDJSON (a file output or the receiver's store). Every
file DIR/fI, I < N, must be seen twice in the audit events' paths (created
and unlinked).
  --loss none (default): no podtrail_loss event and no file missing.
  --loss told: podtrail ran as the audit daemon, so its ring never drops
      (no ring_full); files may be missing only if a loss was told.
  --metrics FILE: the metrics file; its counters are printed.
  --ring-peak LO:HI: podtrail_ring_peak_bytes within [LO, HI].
"""
import argparse
import json
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("events")
ap.add_argument("dir")
ap.add_argument("n", type=int)
ap.add_argument("--metrics")
ap.add_argument("--ring-peak")
ap.add_argument("--loss", choices=("none", "told"), default="none")
a = ap.parse_args()

names, loss = {}, []
with open(a.events, encoding="utf-8") as f:
    for line in f:
        ev = json.loads(line)
        if ev["type"] == "podtrail_loss":
            loss.append(ev)
        elif ev["type"] == "audit":
            for p in ev.get("paths", []):
                names[p.get("name")] = names.get(p.get("name"), 0) + 1
missing = [i for i in range(a.n) if names.get("%s/f%d" % (a.dir, i), 0) < 2]
c = {}
if a.metrics:
    with open(a.metrics, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"podtrail_(\w+) (\d+)$", line.strip())
            if m:
                c[m.group(1)] = int(m.group(2))
causes = sorted({ev["cause"] for ev in loss})
print("# %d of %d files seen created and unlinked; loss events: %d %s%s"
      % (a.n - len(missing), a.n, len(loss), causes,
         "; ring peak %s bytes, ring_behind %s, enobufs %s"
         % (c.get("ring_peak_bytes"), c.get("ring_behind"), c.get("enobufs"))
         if a.metrics else ""))
if a.loss == "none" and loss:
    sys.exit("FAIL: loss reported: %s" % loss[:2])
if a.loss == "told" and "ring_full" in causes:
    sys.exit("FAIL: the drain dropped records as the audit daemon: %s" % loss[:2])
if missing and (a.loss == "none" or not loss):
    sys.exit("FAIL: %d files missing%s, e.g. f%d" % (len(missing),
             "" if a.loss == "none" else " and no loss reported", missing[0]))
if a.ring_peak:
    lo, hi = (int(x) for x in a.ring_peak.split(":"))
    peak = c.get("ring_peak_bytes")
    if peak is None or not lo <= peak <= hi:
        sys.exit("FAIL: ring peak %s outside [%d, %d]" % (peak, lo, hi))
