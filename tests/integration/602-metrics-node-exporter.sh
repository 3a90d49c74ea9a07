#!/usr/bin/env bash
# podtrail's metrics_file as node_exporter's textfile collector reads
# it: a real prometheus-node-exporter on 127.0.0.1 serves it, the scrape
# holds podtrail's counters (forwarding ones included, with the answers
# an aggregator gave), node_exporter reports no textfile error, and
# `promtool check metrics` accepts both the file and the scrape.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NODE_EXPORTER" ] || skip "no prometheus-node-exporter (Debian package prometheus-node-exporter)"
need_cmd promtool

make_certs
start_receiver
mkdir -p "$T/textfile"
prom=$T/textfile/podtrail.prom
# a config error first (held), then delivery
recv_mode 401
# 11 events sent: the 10 and the run's podtrail_key (no checkpoint before the stop)
start_podtrail --batch-age-ms=100 --metrics-file="$prom" --metrics-interval=1 \
	--checkpoint-interval=3600
feed 1 10
metric() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
held() { [ "$(metric podtrail_fwd_held "$prom")" = 1 ]; }
wait_for 30 held || fail "fwd_held not 1 while the aggregator answers 401: $(grep fwd_ "$prom" || true)"
recv_mode ok
delivered() { [ "$(metric podtrail_fwd_sent_events "$prom")" = 11 ]; }
wait_for 60 delivered || fail "metrics do not show 11 events sent: $(grep fwd_sent "$prom" || true)"

port=$(free_port)
"$NODE_EXPORTER" --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$T/textfile" \
	--web.listen-address="127.0.0.1:$port" >"$T/node_exporter.log" 2>&1 &
NE_PID=$!
add_cleanup "kill $NE_PID 2>/dev/null; wait $NE_PID 2>/dev/null || true"
wait_for 20 port_open "$port" || fail "node_exporter did not start: $(tail -3 "$T/node_exporter.log")"
scrape() { "$PYTHON3" -c 'import sys,urllib.request as u; sys.stdout.write(u.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$port" >"$T/scrape.txt"; }
has_podtrail() { scrape && grep -q '^podtrail_fwd_sent_events 11$' "$T/scrape.txt"; }
wait_for 20 has_podtrail || fail "the scrape has no podtrail_fwd_sent_events 11: $(grep -c podtrail_ "$T/scrape.txt" || true) podtrail lines"
[ "$(metric node_textfile_scrape_error "$T/scrape.txt")" = 0 ] ||
	fail "node_exporter could not read the textfile: $(grep textfile "$T/scrape.txt")"
for m in podtrail_fwd_config_errors podtrail_fwd_held podtrail_spool_bytes podtrail_events; do
	grep -q "^$m " "$T/scrape.txt" || fail "$m missing from the scrape"
done
[ "$(metric podtrail_fwd_config_errors "$T/scrape.txt")" -ge 1 ] ||
	fail "the 401 is not counted in fwd_config_errors"
[ "$(metric podtrail_fwd_held "$T/scrape.txt")" = 0 ] || fail "still held after delivery"
note "$(grep -c '^podtrail_' "$T/scrape.txt") podtrail samples scraped"
promtool check metrics <"$prom" >"$T/lint-file.txt" 2>&1 ||
	fail "promtool check metrics on the textfile: $(head -5 "$T/lint-file.txt")"
grep '^podtrail_\|^# [A-Z]* podtrail_' "$T/scrape.txt" | promtool check metrics >"$T/lint-scrape.txt" 2>&1 ||
	fail "promtool check metrics on the scrape: $(head -5 "$T/lint-scrape.txt")"
stop_podtrail
