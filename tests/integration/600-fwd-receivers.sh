#!/usr/bin/env bash
# The aggregators users run, as shipped: every receiver configuration in
# deploy/ and every "# podtrail.conf, for KIND" recipe in the README runs
# against tests/receiver.py in that receiver's mode (--kind), which
# enforces what the receiver's own source enforces (see the sources
# cited in receiver.py: Vector's src/sources/util/http/prelude.rs,
# Fluent Bit's plugins/in_http/http_prot.c, Elasticsearch's bulk API,
# Splunk HEC, Loki's pkg/loghttp/push, the OTLP collector's
# receiver/otlpreceiver/otlphttp.go). Ports and paths come from the
# deploy files; the recipe's URL must name the same ones. Every event
# must be stored, and what was stored must verify as a complete chain.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

DEPLOY=$top_srcdir/deploy
README=$top_srcdir/README.md
make_certs

# recipe KIND: the README's podtrail.conf block for KIND, as key=value
recipe() {
	"$PYTHON3" - "$README" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("\n")
head = "    # podtrail.conf, for " + sys.argv[2]
i = text.index(head) + 1
while i < len(text) and text[i].startswith("    ") and text[i].strip():
    print(text[i].strip())
    i += 1
PY
}
# setting KEY < recipe: the value of KEY
setting() { awk -v k="$1" -F' = ' '$1 == k { print $2 }'; }
url_port() { "$PYTHON3" -c 'import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).port)' "$1"; }
url_path() { "$PYTHON3" -c 'import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).path)' "$1"; }

# What the deploy files say: ports, paths, mutual TLS
vector_port=$(sed -n 's/^address = "[^:]*:\([0-9]*\)"/\1/p' "$DEPLOY/vector.toml")
vector_path=$(sed -n 's/^path = "\(.*\)"/\1/p' "$DEPLOY/vector.toml" | head -1)
grep -q '^strict_path = false' "$DEPLOY/vector.toml" && fail "vector.toml turns strict_path off: test it with it on"
ds_output=$(sed -n 's/^ *output = //p' "$DEPLOY/daemonset.yaml")
fb_port=$(awk '$1 == "Port" { print $2 }' "$DEPLOY/fluent-bit.conf")
ls_port=$(sed -n 's/^ *port => \([0-9]*\)/\1/p' "$DEPLOY/logstash.conf")
[ -n "$vector_port" ] && [ -n "$vector_path" ] && [ -n "$fb_port" ] && [ -n "$ls_port" ] ||
	fail "cannot read ports and paths from deploy/"
note "vector.toml serves :$vector_port$vector_path; daemonset.yaml posts to $ds_output"
# the DaemonSet's nodes post where the shipped Vector listens
[ "$(url_path "$ds_output")" = "$vector_path" ] ||
	fail "daemonset.yaml posts to $(url_path "$ds_output"), vector.toml serves $vector_path (404: every batch dead-lettered)"
[ "$(url_port "$ds_output")" = "$vector_port" ] ||
	fail "daemonset.yaml posts to port $(url_port "$ds_output"), vector.toml listens on $vector_port"
# and so does the example podtrail.conf
conf_output=$(sed -n 's/^output = //p' "$DEPLOY/podtrail.conf")
[ "$(url_path "$conf_output")" = "$vector_path" ] && [ "$(url_port "$conf_output")" = "$vector_port" ] ||
	fail "podtrail.conf posts to $conf_output, vector.toml serves :$vector_port$vector_path"
grep -q '^ *tls.verify *on' "$DEPLOY/fluent-bit.conf" ||
	fail "fluent-bit.conf turns TLS verification off"
grep -q 'ssl_client_authentication => "required"' "$DEPLOY/logstash.conf" ||
	fail "logstash.conf does not require client certificates"

n=0
# run KIND DEPLOY_PORT RECEIVER_ARGS...: the KIND recipe against the
# receiver in that mode; DEPLOY_PORT (or -) is what the recipe must name
run() {
	local kind=$1 want_port=$2 conf=$T/$1.conf url
	shift 2
	recipe "$kind" >"$T/$kind.recipe"
	[ -s "$T/$kind.recipe" ] || fail "$kind: no recipe in the README"
	url=$(setting output <"$T/$kind.recipe")
	[ "$want_port" = - ] || [ "$(url_port "$url")" = "$want_port" ] ||
		fail "$kind: the recipe posts to port $(url_port "$url"), the deploy file listens on $want_port"
	RECV_STORE=$T/store-$kind.ndjson
	RECV_LOG=$T/recv-$kind.log
	RECV_PORT=$(free_port)
	start_receiver --kind "$kind" "$@"
	# the recipe, pointed at this receiver and this test's files
	"$PYTHON3" - "$T/$kind.recipe" "$RECV_PORT" "$T" >"$conf" <<'PY'
import sys, urllib.parse as u
port, t = sys.argv[2], sys.argv[3]
files = {"ca_file": t + "/pki/ca.crt", "client_cert": t + "/pki/client.crt",
         "client_key": t + "/pki/client.key"}
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split(" = ", 1)
    if k == "output":
        s = u.urlsplit(v)
        v = u.urlunsplit((s.scheme, "127.0.0.1:" + port, s.path, s.query, ""))
    elif k in files:
        v = files[k]
    elif k.endswith("_file"):
        v = t + "/secret." + k
    print(k, "=", v)
PY
	# one checkpoint only, at the stop: 25 events + the key and it = 27
	printf 'state_dir = %s\nbatch_age_ms = 50\nsource = stdin\ncheckpoint_interval = 3600\n' \
		"$T/state-$kind" >>"$conf"
	# shellcheck disable=SC2086
	podtrail -c "$conf" < <(gen_audit $((n + 1)) 25) 2>>"$T/podtrail.log" ||
		fail "$kind: podtrail failed: $(tail -3 "$T/podtrail.log")"
	n=$((n + 25))
	wait_for 30 recv_has 27 || fail "$kind: $(recv_count) of 27 events stored; receiver log: $(sort "$RECV_LOG" | uniq -c | head -5)"
	[ -z "$(ls "$T/state-$kind/dead")" ] ||
		fail "$kind: dead letters: $(ls "$T/state-$kind/dead")"
	"$PODTRAIL_VERIFY" --json "$RECV_STORE" >"$T/verify-$kind.json" ||
		fail "$kind: what was stored does not verify: $(head -c 600 "$T/verify-$kind.json")"
	[ "$("$PYTHON3" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(s["events"] for s in r["streams"]))' "$T/verify-$kind.json")" = 27 ] ||
		fail "$kind: verify did not see 27 events: $(head -c 600 "$T/verify-$kind.json")"
	note "$kind: 25 events stored and verified ($(awk '{ print $1 }' "$RECV_LOG" | sort | uniq -c | tr '\n' ' '))"
	stop_receiver
}

# secrets the recipes read, and what the receivers expect
umask 077
echo "podtrail-es:$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" | base64 >"$T/secret.api_key_file"
od -An -tx1 -N12 /dev/urandom | tr -d ' \n' >"$T/secret.token_file"
echo "podtrail:$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" >"$T/secret.basic_auth_file"
tenant=$(recipe loki | setting header | sed -n 's/^X-Scope-OrgID: //p')
[ -n "$tenant" ] || fail "the loki recipe sends no tenant"

run vector "$vector_port" --path "$vector_path" --client-ca "$T/pki/ca.crt"
run fluentbit "$fb_port" --client-ca "$T/pki/ca.crt"
run logstash "$ls_port" --client-ca "$T/pki/ca.crt"
es_index=$(recipe elasticsearch | setting es_index)
case $es_index in logs-*-*) ds=--data-stream ;; *) ds= ;; esac
# shellcheck disable=SC2086
run elasticsearch - $ds --api-key "$(cat "$T/secret.api_key_file")"
run splunk - --token "$(cat "$T/secret.token_file")" --hec-ack
run loki - --tenant "$tenant"
run otlp - --basic "$(cat "$T/secret.basic_auth_file")"

# Each stored shape holds the chained line where verify finds it
grep -q '"event":{' "$T/store-elasticsearch.ndjson" &&
	grep -q '"original":' "$T/store-elasticsearch.ndjson" ||
	fail "elasticsearch: stored documents have no event.original"
grep -q '"kubernetes"\|"host":{"name"' "$T/store-elasticsearch.ndjson" ||
	fail "elasticsearch: stored documents have no ECS fields"
