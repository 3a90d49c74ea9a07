#!/usr/bin/env bash
# nats_creds: a NATS server in operator mode (decentralized JWT auth:
# an operator, an account with JetStream, a user; made at test time by
# tests/helpers/nats_jwt.py the way nsc signs them) takes podtrail's
# batches only with the user's credentials file. A creds file others
# can read is refused at start; a user the server does not know
# delivers nothing (batches stay spooled, the refusal is logged) and the
# next start with the right file delivers everything; podtrail-verify
# reads the stream with ?nats_creds=, and without it is refused.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"
. "$top_srcdir/tests/integration/nats.sh"
"$PYTHON3" -c 'import cryptography' 2>/dev/null || skip "needs python3-cryptography (to sign the JWTs)"

"$PYTHON3" "$top_srcdir/tests/helpers/nats_jwt.py" "$T" || fail "JWTs not made"
nats_cluster 1 "include auth.conf"
wait_nats_ready
NOPTS="--batch-events=50 --batch-age-ms=100 --heartbeat-interval=0 --metrics-file=$T/podtrail.prom --metrics-interval=1"

# a credentials file others can read: refused before anything starts
cp "$T/user.creds" "$T/open.creds"
chmod 0644 "$T/open.creds"
if podtrail -n --source=stdin --state-dir="$T/state" --output="$NATS_URL" \
	--nats-creds="$T/open.creds" >"$T/check.log" 2>&1; then
	fail "a world-readable nats_creds was accepted"
fi
grep -q "nats_creds" "$T/check.log" || fail "refusal does not name nats_creds: $(cat "$T/check.log")"

# a user of an account the server does not trust: nothing delivered
# shellcheck disable=SC2086
start_podtrail $NOPTS --nats-creds="$T/other.creds"
feed 1 200
wait_for 60 log_has "uthorization" || fail "no authorization failure logged"
wait_for 60 spool_has 200 || fail "batches not kept in the spool"
[ "$(metric nats_sent_events)" = 0 ] || fail "events acked without valid credentials"
stop_podtrail

# the node's own credentials: the spool drains, new events follow
# shellcheck disable=SC2086
start_podtrail $NOPTS --nats-creds="$T/user.creds"
feed 201 200
wait_for 60 acked_has 400 || fail "not delivered with the user's credentials ($(spool_events) events spooled)"
spool_empty || fail "acked segments left in the spool"
stop_podtrail

"$PODTRAIL_VERIFY" --json "$NATS_URL/PODTRAIL?nats_creds=$T/user.creds" >"$T/verify.json" 2>"$T/verify.err" ||
	fail "podtrail-verify with creds failed: $(cat "$T/verify.err")"
[ "$(vq 's["duplicates"]')" = 0 ] || fail "verify saw duplicates"
ev=$(vq 's["events"]')
[ "$ev" -ge 400 ] || fail "verify saw $ev events"
if "$PODTRAIL_VERIFY" --json "$NATS_URL/PODTRAIL?wait=3" >"$T/verify2.json" 2>"$T/verify2.err"; then
	fail "podtrail-verify without credentials read the stream"
fi
note "with creds: $ev events verified; without: $(head -c 160 "$T/verify2.err")"
