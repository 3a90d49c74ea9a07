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
order = ["drain", "podtrail", "unicast", "auditd", "laurel"]
label = {"drain": "trivial reader", "podtrail": "podtrail",
         "unicast": "podtrail-unicast",
         "auditd": "auditd", "laurel": "auditd+laurel"}
med = {}
for m in order:
    rs = [r for r in rows if r["mode"] == m]
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
print("\nmedians (runs; min..max in brackets)")
print("%-15s %4s %16s %9s %9s %7s %6s %16s %8s" % ("collector", "runs",
      "files/s", "expected", "missing", "k.lost", "ev/s", "us/event", "RSS MiB"))
with open(dat, "w") as f:
    f.write("# label events_per_s us_per_event\n")
    for m, v in med.items():
        evs = v["files_per_s"] * 2 * (1 - (v["missing"] / v["expected"]
              if v["expected"] and v["missing"] == v["missing"] else 0))
        print("%-15s %4d %7.0f [%.0f..%.0f] %9.0f %9s %7.0f %6.0f %5.1f [%.1f..%.1f] %8.1f" % (
            label[m], v["runs"], v["files_per_s"], *v["fps_range"],
            v["expected"], "-" if v["missing"] != v["missing"] else "%.0f" % v["missing"],
            v["kernel_lost"], evs, v["us_per_event"], *v["us_range"],
            v["peak_rss_kib"] / 1024))
        f.write('"%s" %.0f %.1f\n' % (label[m], evs, v["us_per_event"]))
if "drain" in med and "podtrail" in med:
    print("podtrail writers' pace / trivial reader's: %.2f (target >= 0.75)" %
          (med["podtrail"]["files_per_s"] / med["drain"]["files_per_s"]))
for m in ("podtrail", "unicast"):
    if "laurel" in med and m in med:
        print("%s CPU per event / auditd+laurel's: %.2f (target <= 0.5)" %
              (label[m], med[m]["us_per_event"] / med["laurel"]["us_per_event"]))
if "drain" in med and "unicast" in med:
    print("podtrail-unicast writers' pace / trivial reader's: %.2f" %
          (med["unicast"]["files_per_s"] / med["drain"]["files_per_s"]))
if "auditd" in med and "podtrail" in med:
    print("podtrail CPU per event / auditd's: %.2f" %
          (med["podtrail"]["us_per_event"] / med["auditd"]["us_per_event"]))
if "unicast" in med:
    print("podtrail-unicast missing events: %.0f; peak RSS %.1f MiB" %
          (med["unicast"]["missing"], med["unicast"]["peak_rss_kib"] / 1024))
if "podtrail" in med:
    print("podtrail missing events: %.0f (target 0); peak RSS %.1f MiB (target <= 24)" %
          (med["podtrail"]["missing"], med["podtrail"]["peak_rss_kib"] / 1024))
PY
command -v gnuplot >/dev/null || { echo "gnuplot not installed: no plot"; exit 0; }
gnuplot <<GP
set terminal pngcairo size 1000,440 noenhanced font ",10"
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
