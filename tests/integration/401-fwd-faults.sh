#!/usr/bin/env bash
# Aggregator faults: a certificate for another name, an expired
# certificate, endless 503s and a response that never ends. Each one:
# a message that names the cause, nothing accepted by the wrong server,
# every event kept in the spool, retries with backoff and no busy loop;
# once the aggregator is healthy everything arrives and verifies.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
(
	cd "$T/pki" || exit 1
	cp server.crt good.crt
	cp server.key good.key
	# signed by the trusted CA, but for another host name
	printf 'subjectAltName=DNS:other.example\n' >other.ext
	openssl req -newkey rsa:2048 -nodes -subj "/CN=other.example" \
		-keyout other.key -out other.csr >/dev/null 2>&1
	openssl x509 -req -in other.csr -CA ca.crt -CAkey ca.key \
		-CAcreateserial -days 2 -extfile other.ext -out other.crt \
		>/dev/null 2>&1
	# the right name and CA, but valid until yesterday
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
		-CAcreateserial -days -1 -extfile server.ext -out expired.crt \
		>/dev/null 2>&1
	cp server.key expired.key
	chmod 600 ./*.key
) || fail "openssl could not make the bad certificates"
openssl x509 -in "$T/pki/expired.crt" -noout -checkend 0 >/dev/null &&
	fail "the expired certificate is not expired"

# serve NAME: the receiver presents $T/pki/NAME.{crt,key}
serve() {
	stop_receiver
	cp "$T/pki/$1.crt" "$T/pki/server.crt"
	cp "$T/pki/$1.key" "$T/pki/server.key"
	start_receiver
}
run() { start_podtrail --batch-age-ms=100 --timeout-ms=1000; }
kept() { wait_for 30 spool_has "$1" || fail "$2: only $(spool_events) of $1 events spooled"; }

recv_mode ok
serve other
run
feed 1 20
kept 20 "name mismatch"
wait_for 30 log_has "subject name" || fail "name mismatch not named in the log"
note "$(grep -m1 "subject name" "$T/podtrail.log")"
no_busy_loop "name mismatch"
stop_podtrail
[ "$(recv_count)" = 0 ] || fail "events reached a server with another name"

serve expired
run
feed 21 20
kept 40 "expired certificate"
wait_for 30 log_has "expired" || fail "expired certificate not named in the log"
note "$(grep -m1 "expired" "$T/podtrail.log")"
no_busy_loop "expired certificate"
stop_podtrail
[ "$(recv_count)" = 0 ] || fail "events reached a server with an expired certificate"

serve good
recv_mode 503
run
feed 41 20
kept 60 "endless 503"
wait_for 30 log_has "HTTP 503" || fail "503 not reported"
before=$(recv_requests 503)
no_busy_loop "endless 503"
after=$(recv_requests 503)
note "endless 503: $((after - before)) request(s) in 5 s"
[ $((after - before)) -lt 20 ] || fail "503s retried without backoff"
stop_podtrail
[ "$(recv_count)" = 0 ] || fail "a 503 stored events"

recv_mode stall
run
feed 61 20
kept 80 "stalled response"
wait_for 30 log_has "imeout\|timed out" || fail "stalled response not reported as a timeout"
note "$(grep -m1 "imeout\|timed out" "$T/podtrail.log")"
stalls_ge() { [ "$(recv_requests -1)" -ge "$1" ]; }
wait_for 30 stalls_ge 2 || fail "no retry after a stalled response"
no_busy_loop "stalled response"
stop_podtrail

# healthy again: every event arrives once, the chain verifies
recv_mode ok
run
wait_for 60 recv_has 80 || fail "only $(recv_count) of 80 delivered after recovery"
wait_for 30 spool_empty || fail "spool not emptied"
stop_podtrail
"$PODTRAIL_VERIFY" "$RECV_STORE" >"$T/verify.out" || { cat "$T/verify.out"; fail "verify failed"; }
note "80 events kept through 4 faults and delivered; $(grep -c . "$RECV_LOG") requests"
