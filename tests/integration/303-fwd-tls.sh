#!/usr/bin/env bash
# TLS: a wrong CA sends nothing and keeps the data; the right one
# delivers it; mTLS; bearer token; plain http:// refused.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

make_certs
recv_mode ok
printf 'tok-%s\n' "$$" >"$T/token"
chmod 600 "$T/token"
start_receiver --client-ca "$T/pki/ca.crt" --token "tok-$$"

# wrong CA: nothing sent, data kept
start_podtrail --batch-age-ms=100 --ca-file="$T/pki/wrong.crt" \
	--client-cert="$T/pki/client.crt" --client-key="$T/pki/client.key" \
	--token-file="$T/token"
feed 1 50
wait_for 30 spool_has 50 || fail "data not kept in the spool"
wait_for 30 log_has "will retry" || fail "TLS failure not reported"
stop_podtrail
[ "$(recv_count)" = 0 ] || fail "events reached a server we do not trust"
# 50 events, the run's podtrail_key and its checkpoints
spool_audit() { find "$T/state/spool" -name '*.seg' -exec zcat {} + | grep -c '"type":"audit"'; }
[ "$(spool_audit)" = 50 ] || fail "spool lost data: $(spool_audit)"
grep -q "tok-$$" "$T/podtrail.log" && fail "the token was logged"

# without a client certificate the server refuses the handshake
start_podtrail --batch-age-ms=100 --token-file="$T/token"
feed 51 10
# stop it only once it has taken the ten in: a SIGTERM before podtrail
# has even reached main() (a long moment under valgrind) kills it with
# them still in the pipe
wait_for 30 spool_has 60 || fail "only $(spool_events) of 60 spooled"
wait_for 30 log_has "will retry" || fail "mTLS failure not reported"
stop_podtrail
[ "$(recv_count)" = 0 ] || fail "delivered without a client certificate"

# right CA, client certificate and token: everything arrives, each once
start_podtrail --batch-age-ms=100 --client-cert="$T/pki/client.crt" \
	--client-key="$T/pki/client.key" --token-file="$T/token"
wait_for 30 recv_events_has 60 || fail "only $(recv_events) of 60 delivered"
stop_podtrail
"$PODTRAIL_VERIFY" "$RECV_STORE" || fail "verify failed"
"$PYTHON3" - "$RECV_STORE" <<'PY' || fail "not every event arrived once"
import json, sys
serials = [e.get("serial") for e in map(json.loads, open(sys.argv[1]))
           if e.get("type") == "audit"]
if sorted(serials) != list(range(1, 61)):
    sys.exit("serials: %s" % sorted(serials))
PY
grep -q '^401' "$RECV_LOG" && fail "token was not accepted"

# secrets readable by others are refused at start
chmod 644 "$T/token"
if podtrail --source=stdin --state-dir="$T/state2" --token-file="$T/token" \
	--output="https://127.0.0.1:$RECV_PORT/" </dev/null 2>"$T/err"; then
	fail "a world-readable token file was accepted"
fi
grep -q "readable by group or others" "$T/err" || fail "no reason given"

# plain http: refused, except to loopback with allow_http
if podtrail --source=stdin --state-dir="$T/state3" \
	--output="http://127.0.0.1:$RECV_PORT/" </dev/null 2>"$T/err"; then
	fail "plain http accepted without allow_http"
fi
grep -q "http:// is refused" "$T/err" || fail "no reason for refusing http"
if podtrail --source=stdin --state-dir="$T/state3" --allow-http \
	--output="http://192.0.2.1/" </dev/null 2>"$T/err"; then
	fail "plain http to a remote host accepted"
fi
note "wrong CA kept 50 events; mTLS + token delivered $(recv_events)"
