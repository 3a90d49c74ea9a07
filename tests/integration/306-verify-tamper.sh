#!/usr/bin/env bash
# podtrail-verify: shuffled order and duplicates pass; an edited
# field, a deleted event, a changed seq fail and are located; HMAC
# chains need the key.
. "$top_srcdir/tests/integration/common.sh"
. "$top_srcdir/tests/integration/https.sh"

gen_audit 1 30 | podtrail --source=stdin --output="file:$T/a.ndjson" \
	--state-dir="$T/state" 2>/dev/null
gen_audit 31 10 | podtrail --source=stdin --output="file:$T/a.ndjson" \
	--state-dir="$T/state" 2>/dev/null
"$PODTRAIL_VERIFY" "$T/a.ndjson" || fail "clean chain (across a restart) failed"
V=$PODTRAIL_VERIFY
expect_fail() {	# FILE PATTERN: verify fails and the report matches
	if "$V" "$1" >"$T/out"; then fail "verify passed $1"; fi
	grep -q -- "$2" "$T/out" || { cat "$T/out"; fail "report lacks '$2'"; }
}

# order and duplicates are not tampering
{ shuf "$T/a.ndjson"; head -5 "$T/a.ndjson"; } >"$T/shuf.ndjson"
"$V" "$T/shuf.ndjson" >"$T/out" || { cat "$T/out"; fail "shuffled copy failed"; }
grep -q "5 duplicates" "$T/out" || fail "duplicates not counted"

# an edited field (each run opens with its podtrail_key event: file7 is seq 8)
sed '8s#/etc/file7"#/etc/fileX"#' "$T/a.ndjson" >"$T/edit.ndjson"
expect_fail "$T/edit.ndjson" "hash mismatch (edited): seq 8 at .*edit.ndjson:8"

# an edited field with the hash recomputed (no key): the link breaks
"$PYTHON3" - "$T/a.ndjson" >"$T/rehash.ndjson" <<'PY'
import hashlib, json, sys
lines = open(sys.argv[1]).read().splitlines()
ev = json.loads(lines[9])
ev["process"]["comm"] = "evil"
del ev["hash"]
canon = json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
ev["hash"] = hashlib.sha256((ev["prev"] + canon).encode()).hexdigest()
lines[9] = json.dumps(ev, separators=(",", ":"))
print("\n".join(lines))
PY
expect_fail "$T/rehash.ndjson" "broken link (prev does not match seq - 1): seq 11"

# a deleted event
sed '12d' "$T/a.ndjson" >"$T/del.ndjson"
expect_fail "$T/del.ndjson" "gap: seq 12..12 missing"

# a changed seq
sed '15s/"seq":15,/"seq":16,/' "$T/a.ndjson" >"$T/seq.ndjson"
expect_fail "$T/seq.ndjson" "conflict: seq 16"
grep -q "hash mismatch (edited): seq 16 at .*seq.ndjson:15" "$T/out" ||
	fail "changed seq not located"

# JSON report
"$V" --json "$T/del.ndjson" >"$T/verify.json" && fail "json: passed"
[ "$(vq 's["gaps"]')" = "[[12, 12]]" ] || fail "json gaps wrong"

# a field the aggregator added: a mismatch unless told to ignore it
sed 's/^{/{"timestamp":"2026-01-01T00:00:00Z",/' "$T/a.ndjson" >"$T/added.ndjson"
"$V" "$T/added.ndjson" >/dev/null && fail "added field passed"
"$V" --ignore timestamp "$T/added.ndjson" >/dev/null ||
	fail "--ignore did not leave out the added field"

# HMAC: verify needs the right key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key"
chmod 600 "$T/key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key2"
chmod 600 "$T/key2"
gen_audit 1 10 | podtrail --source=stdin --output="file:$T/h.ndjson" \
	--state-dir="$T/hstate" --hmac-key-file="$T/key" 2>/dev/null
"$V" --key "$T/key" "$T/h.ndjson" || fail "HMAC chain with its key failed"
"$V" --key "$T/key2" "$T/h.ndjson" >"$T/out" && fail "wrong key passed"
grep -q "HMAC failure" "$T/out" || fail "HMAC failures not reported"
"$V" "$T/h.ndjson" >/dev/null && fail "HMAC chain passed without the key"
# gzip'd input (spool segments, a store of gzip'd bodies) reads the
# same; a cut gzip stream is a read error (2), not a shorter chain
gzip -c "$T/h.ndjson" >"$T/h.gz"
"$V" --key "$T/key" "$T/h.gz" || fail "a gzip'd chain did not verify"
head -c 200 "$T/h.gz" >"$T/cut.gz"
rc=0
"$V" --key "$T/key" "$T/cut.gz" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "a cut gzip stream gave exit $rc, not 2"
note "verify: ok / edit / rehash / delete / seq change / hmac / gzip all as expected"
