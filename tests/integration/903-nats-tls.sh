#!/usr/bin/env bash
# TLS to NATS from the same settings as HTTPS: ca_file verifies the
# server, client_cert/client_key give mutual TLS (the server requires
# and verifies a client certificate). A server certificate podtrail
# cannot verify delivers nothing (batches stay spooled, the failure is
# logged) until the server is fixed, then everything goes out without
# a restart; no client certificate delivers nothing either; plain
# nats:// to a host that is not loopback is refused at start;
# podtrail-verify reads over TLS too.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
. "$top_srcdir/tests/integration/nats.sh"

make_certs
P=$T/pki
# first a certificate podtrail cannot verify (self-signed, another CA)
cp "$P/wrong.crt" "$T/srv.crt"
cp "$P/wrong.key" "$T/srv.key"
nats_cluster 1 "tls { cert_file: \"$T/srv.crt\"
  key_file: \"$T/srv.key\"
  ca_file: \"$T/pki/ca.crt\"
  verify: true }"
wait_nats_ready

# plain nats:// to a remote host: refused, with the reason
rc=0
podtrail --source=file:/dev/null --output=nats://nats.example:4222 \
	--state-dir="$T/s0" >"$T/plain.log" 2>&1 || rc=$?
[ $rc != 0 ] || fail "plain nats:// to a remote host was accepted"
grep -q "without TLS is refused" "$T/plain.log" || fail "no reason given: $(cat "$T/plain.log")"

# the server's certificate does not verify: nothing delivered, logged
start_podtrail --batch-events=50 --batch-age-ms=100 --heartbeat-interval=0 \
	--ca-file="$P/ca.crt" --client-cert="$P/client.crt" --client-key="$P/client.key"
feed 1 100
wait_for 30 spool_has 100 || fail "batches not spooled"
wait_for 30 log_has "cannot connect: .*SSL handshake error" || fail "no warning with a server certificate that does not verify"
[ "$(nats_jsz 1 "len(streams)" 2>/dev/null)" = 0 ] || fail "something reached the server"
note "bad server certificate: $(grep -m1 'cannot connect' "$T/podtrail.log")"
# the operator fixes the server: podtrail connects again by itself
cp "$P/server.crt" "$T/srv.crt"
cp "$P/server.key" "$T/srv.key"
nats_stop 1
nats_start 1
wait_nats_ready
wait_for 60 log_has "created stream PODTRAIL" || fail "no recovery once the server certificate was fixed"
wait_for 60 spool_empty || fail "not delivered once the server certificate was fixed"
stop_podtrail

# no client certificate: the server refuses the handshake
start_podtrail --batch-events=50 --batch-age-ms=100 --heartbeat-interval=0 \
	--ca-file="$P/ca.crt"
feed 101 100
wait_for 30 log_has "cannot connect\\|not usable yet" || fail "no warning without a client certificate"
stop_podtrail
spool_has 100 || fail "batches lost without a client certificate"

# mutual TLS: everything spooled so far goes out
start_podtrail --batch-events=50 --batch-age-ms=100 --heartbeat-interval=0 \
	--ca-file="$P/ca.crt" --client-cert="$P/client.crt" --client-key="$P/client.key"
feed 201 100
wait_for 60 log_has "stream PODTRAIL exists" || fail "stream not found over mTLS"
wait_for 60 spool_empty || fail "not delivered over mTLS"
stop_podtrail
"$PODTRAIL_VERIFY" --json "$NATS_URL/PODTRAIL?ca_file=$P/ca.crt&client_cert=$P/client.crt&client_key=$P/client.key" \
	>"$T/verify.json" || fail "verify over TLS failed: $(cat "$T/verify.json")"
[ "$(vq 'sum(x["events"] for x in r["streams"])')" -ge 300 ] || fail "verify saw $(vq 's["events"]') events"
# and without the client certificate the verifier cannot read it
rc=0
"$PODTRAIL_VERIFY" "$NATS_URL/PODTRAIL?ca_file=$P/ca.crt&wait=3" >"$T/v2.log" 2>&1 || rc=$?
[ $rc = 2 ] || fail "verify without a client certificate: status $rc"
note "mTLS: $(vq 'sum(x["events"] for x in r["streams"])') events verified over TLS"
