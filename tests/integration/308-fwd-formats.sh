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

# Segments spooled by an older version (plain NDJSON) still go out, in
# any format; a damaged gzip'd one is dead-lettered, not retried.
old=$T/old
mkdir -p "$old/spool"
chmod 0700 "$old" "$old/spool"
printf '{"type":"legacy","seq":900}\n{"type":"legacy","seq":901}\n' \
	>"$old/spool/00000000000000000001-900-901-2.seg"
printf '\037\213\010\000\000\000\000\000\000\003damaged-damaged\001\000\000\000' \
	>"$old/spool/00000000000000000002-902-902-1.seg"
podtrail --source=stdin --state-dir="$old" --format=elasticsearch \
	--es-index=audit --ca-file="$T/pki/ca.crt" \
	--output="https://127.0.0.1:$RECV_PORT/_bulk" </dev/null 2>>"$T/podtrail.log" ||
	fail "podtrail failed on the old spool"
wait_for 30 sh -c "[ \$(grep -c '\"legacy\"' '$RECV_STORE') = 2 ]" ||
	fail "the plain segment was not delivered: $(grep -c legacy "$RECV_STORE") of 2"
[ -f "$old/dead/00000000000000000002-902-902-1.seg" ] ||
	fail "the damaged segment was not dead-lettered"
grep -q "not a valid batch" "$T/podtrail.log" || fail "the damaged segment was not logged"
# what is left is this run's own podtrail_key and closing checkpoint
left=$(ls "$old/spool" | grep -v -- '-1-2-2\.seg$' || true)
[ -z "$left" ] || fail "spool not empty: $left"
