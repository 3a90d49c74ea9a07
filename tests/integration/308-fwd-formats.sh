#!/usr/bin/env bash
# Payload formats: Elasticsearch _bulk and Splunk HEC reach the test
# aggregator with every event intact and verifiable.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
recv_mode ok
start_receiver
n=0
for fmt in elasticsearch:/_bulk splunk-hec:/services/collector/event; do
	podtrail --source=stdin --state-dir="$T/state" --format="${fmt%%:*}" \
		--es-index=audit --batch-age-ms=50 --ca-file="$T/pki/ca.crt" \
		--output="https://127.0.0.1:$RECV_PORT${fmt#*:}" \
		< <(gen_audit $((n + 1)) 25) 2>>"$T/podtrail.log" ||
		fail "${fmt%%:*}: podtrail failed"
	n=$((n + 25))
	wait_for 30 recv_has $n || fail "${fmt%%:*}: only $(recv_count) of $n stored"
	grep -q " ${fmt#*:}\$" "$RECV_LOG" || fail "${fmt%%:*}: wrong path"
done
"$PODTRAIL_VERIFY" "$RECV_STORE" || fail "verify failed"
