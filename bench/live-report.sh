#!/usr/bin/env bash
# bench/live-report.sh - medians, ratios and the plot from live.csv.
#   bench/live-report.sh CSV OUTDIR [SINCE]
# SINCE (an ISO date as in the CSV) keeps only rows from that time on.
set -euo pipefail
CSV=$1 OUT=$2 SINCE=${3:-}
python3 - "$CSV" "$OUT/live-medians.dat" "$SINCE" <<'PY'
import csv, statistics, sys
path, dat, since = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [r for r in csv.DictReader(open(path)) if r["date"] >= since]
for r in rows:
    r["node"] = r.get("node") or "quiet"
order = ["drain", "podtrail", "unicast", "auditd", "laurel"]
label = {"drain": "trivial reader", "podtrail": "podtrail",
         "unicast": "podtrail-unicast",
         "auditd": "auditd", "laurel": "auditd+laurel"}
nodes = [n for n in ("quiet", "busy") if any(r["node"] == n for r in rows)]

# every podtrail run, with its pace against the trivial reader of the same run and node
drains = {(r["run"], r["node"]): float(r["files_per_s"]) for r in rows if r["mode"] == "drain"}
print("\nper run (pace: writers' files/s / the trivial reader's in the same run and node)")
print("%-5s %-16s %4s %9s %9s %7s %-28s %5s %8s %7s %9s %6s" % ("node", "collector", "run",
      "expected", "delivered", "missing", "loss events", "pace", "us/event", "RSS MiB",
      "ring MiB", "behind"))
for r in rows:
    if r["mode"] not in ("podtrail", "unicast"):
        continue
    dr = drains.get((r["run"], r["node"]))
    ring = r.get("ring_peak_kib") or "-"
    print("%-5s %-16s %4s %9s %9s %7s %-28s %5s %8s %7.1f %9s %6s" % (r["node"], label[r["mode"]],
          r["run"], r["expected"], r["delivered"], r["missing"], r.get("loss_events") or "-",
          "%.2f" % (float(r["files_per_s"]) / dr) if dr else "-", r["us_per_event"],
          int(r["peak_rss_kib"]) / 1024,
          "%.1f" % (int(ring) / 1024) if ring.isdigit() else "-",
          r.get("ring_behind") or "-"))

f = open(dat, "w")
f.write("# label events_per_s us_per_event\n")
for node in nodes:
    med = {}
    for m in order:
        rs = [r for r in rows if r["mode"] == m and r["node"] == node]
        if not rs:
            continue
        def md(k):
            v = [float(r[k]) for r in rs if r[k] not in ("-", "")]
            return statistics.median(v) if v else float("nan")
        def rng(k):
            v = [float(r[k]) for r in rs if r[k] not in ("-", "")]
            return (min(v), max(v)) if v else (float("nan"),) * 2
        med[m] = {k: md(k) for k in ("files_per_s", "expected", "delivered",
                  "missing", "kernel_lost", "us_per_event", "peak_rss_kib")}
        med[m]["runs"] = len(rs)
        med[m]["fps_range"] = rng("files_per_s")
        med[m]["us_range"] = rng("us_per_event")
        med[m]["zero"] = sum(1 for r in rs if r["missing"] == "0")
    print("\n%s node: medians (runs; min..max in brackets)" % node)
    print("%-15s %4s %16s %9s %9s %7s %6s %16s %8s" % ("collector", "runs",
          "files/s", "expected", "missing", "k.lost", "ev/s", "us/event", "RSS MiB"))
    for m, v in med.items():
        evs = v["files_per_s"] * 2 * (1 - (v["missing"] / v["expected"]
              if v["expected"] and v["missing"] == v["missing"] else 0))
        print("%-15s %4d %7.0f [%.0f..%.0f] %9.0f %9s %7.0f %6.0f %5.1f [%.1f..%.1f] %8.1f" % (
            label[m], v["runs"], v["files_per_s"], *v["fps_range"],
            v["expected"], "-" if v["missing"] != v["missing"] else "%.0f" % v["missing"],
            v["kernel_lost"], evs, v["us_per_event"], *v["us_range"],
            v["peak_rss_kib"] / 1024))
        f.write('"%s%s" %.0f %.1f\n' % (label[m], "" if node == "quiet" else " (busy)",
                evs, v["us_per_event"]))
    for m in ("podtrail", "unicast"):
        if m not in med:
            continue
        print("%s: 0 missing in %d of %d runs (target: all); peak RSS %.1f MiB "
              "(target <= 24 + ring_bytes, resident only while behind)" % (label[m],
              med[m]["zero"], med[m]["runs"], med[m]["peak_rss_kib"] / 1024))
        if "drain" in med:
            print("%s writers' pace / trivial reader's: %.2f (target >= 0.9 quiet)" % (
                  label[m], med[m]["files_per_s"] / med["drain"]["files_per_s"]))
        if "laurel" in med:
            print("%s CPU per event / auditd+laurel's: %.2f (target <= 0.1)" % (
                  label[m], med[m]["us_per_event"] / med["laurel"]["us_per_event"]))
        if "auditd" in med:
            print("%s CPU per event / auditd's: %.2f" % (
                  label[m], med[m]["us_per_event"] / med["auditd"]["us_per_event"]))
f.close()
PY
command -v gnuplot >/dev/null || { echo "gnuplot not installed: no plot"; exit 0; }
gnuplot <<GP
set terminal pngcairo size 1200,480 noenhanced font ",10"
set output "$OUT/live.png"
set multiplot layout 1,2 title "bench/live.sh: create/unlink storm, $(nproc) CPUs (medians)"
set style data histograms
set style fill solid 0.8
set boxwidth 0.7
set grid ytics
set yrange [0:*]
set xtics rotate by -20
set title "events/s delivered"
plot "$OUT/live-medians.dat" using 2:xtic(1) notitle lc rgb "#3c78d8"
set title "collector CPU per event (us)"
plot "$OUT/live-medians.dat" using 3:xtic(1) notitle lc rgb "#cc4125"
unset multiplot
GP
echo "plot: $OUT/live.png"
