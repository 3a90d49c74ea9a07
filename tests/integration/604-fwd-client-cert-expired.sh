#!/usr/bin/env bash
# Mutual TLS with an expired client certificate: the aggregator refuses
# the handshake (its TLS alert alone does not say whose certificate),
# podtrail says at start and at the failure that client_cert expired,
# keeps every event spooled (nothing dead-lettered, no busy loop), and
# delivers it all once the certificate is renewed.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
(
	cd "$T/pki" || exit 1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=expired-node" \
		-keyout expired-client.key -out expired-client.csr >/dev/null 2>&1
	openssl x509 -req -in expired-client.csr -CA ca.crt -CAkey ca.key \
		-CAcreateserial -days -1 -extfile client.ext \
		-out expired-client.crt >/dev/null 2>&1
	chmod 600 ./*.key
) || fail "openssl could not make the expired client certificate"
openssl x509 -in "$T/pki/expired-client.crt" -noout -checkend 0 >/dev/null &&
	fail "the client certificate is not expired"

recv_mode ok
start_receiver --client-ca "$T/pki/ca.crt"
start_podtrail --batch-age-ms=100 --timeout-ms=1000 \
	--client-cert="$T/pki/expired-client.crt" --client-key="$T/pki/expired-client.key"
feed 1 20
wait_for 30 spool_has 20 || fail "only $(spool_events) of 20 events spooled"
wait_for 30 log_has "client_cert $T/pki/expired-client.crt has expired" ||
	fail "the expired client certificate is not named: $(tail -5 "$T/podtrail.log")"
wait_for 30 log_has "sending to aggregator: .*; will retry" || fail "the failed handshake is not logged"
note "$(grep -m1 'sending to aggregator' "$T/podtrail.log")"
no_busy_loop "expired client certificate"
[ "$(recv_count)" = 0 ] || fail "the aggregator accepted an expired client certificate"
[ "$(dead_files)" = 0 ] || fail "events were dead-lettered"
stop_podtrail
[ "$(spool_events)" -ge 20 ] || fail "events were dropped at exit: $(spool_events) spooled"

# renewed: everything spooled goes out
start_podtrail --batch-age-ms=100 --client-cert="$T/pki/client.crt" \
	--client-key="$T/pki/client.key"
wait_for 60 recv_events_has 20 || fail "only $(recv_events) of 20 delivered after renewal"
stop_podtrail
verify_json
[ "$(vq 's["gaps"]')" = "[]" ] || fail "gaps: $(vq 's["gaps"]')"
[ "$(vq 'r["ok"]')" = True ] || fail "the chain does not verify"
