#!/usr/bin/env python3
"""A test aggregator: HTTPS (or plain HTTP) on loopback that stores the
events it accepts as NDJSON and can be told to misbehave.

The control file holds one mode, read on every request:
  ok            200, store the events
  503           503 Service Unavailable
  429 SECONDS   429 with Retry-After: SECONDS
  400           400 Bad Request
  slow SECONDS  wait, then 200 and store
  close         close the connection without answering
  stall         200 headers and one byte of a long body, then silence
  500 TEXT      500 with TEXT as its body
  413 BYTES     413 for a body (decoded) over BYTES, else 200
  midclose      200 headers and half the promised body, then close
  items SPEC    (--kind elasticsearch) per-document answers: SPEC is
                SEQ:STATUS,... (429 once per SEQ, others every time)
Every request is logged to --log as "STATUS EVENTS BYTES PATH".

--kind makes the receiver enforce what a real aggregator enforces, as
read in its source (each check cites the file):
  test           podtrail's own test aggregator (above), any path
  vector         Vector http_server (src/sources/util/http/prelude.rs):
                 POST only; the path's segments must match --path and,
                 with strict_path (the default), nothing may follow
                 them: 404; gzip/deflate/zstd decoded, another encoding
                 415; --basic USER:PASS checked (401); every line of a
                 newline_delimited body is one event, kept verbatim
  fluentbit      Fluent Bit in_http (plugins/in_http/http_prot.c):
                 Content-Type application/json (or form data), else
                 400 "invalid 'Content-Type'"; gzip decoded; the body
                 must be JSON (objects, concatenated or in an array),
                 else 400; answers 201; records are stored re-serialized
  logstash       Logstash http input (logstash-input-http, http.rb):
                 any path; application/json goes to the json codec, any
                 other type to the configured codec (line); 200 "ok"
  elasticsearch  _bulk (server/.../RestBulkAction, BulkRequestParser):
                 path /_bulk or /INDEX/_bulk; Content-Type
                 application/json or application/x-ndjson, else 406;
                 body must end with a newline, else 400; action lines
                 create/index; --data-stream: only create, and every
                 document needs @timestamp (item 400); a create with an
                 _id already stored is an item 409; --api-key and
                 --basic checked (401); answers errors + items
  splunk         Splunk HEC (/services/collector[/event]): Authorization
                 "Splunk TOKEN" (401 code 2 if absent, 403 code 4 if
                 wrong); --hec-ack: X-Splunk-Request-Channel required
                 (400 code 10); each object needs "event" (400 code 12)
  loki           Loki push (pkg/loghttp/push/push.go): /loki/api/v1/push;
                 application/json parsed as streams[].stream (labels,
                 names [a-zA-Z_][a-zA-Z0-9_]*) and values [ts, line,
                 {metadata}] (ts a string of ns, metadata string to
                 string), any other type is parsed as protobuf: 400;
                 gzip decoded; --tenant: X-Scope-OrgID required (401);
                 answers 204; the lines are stored
  otlp           OTLP/HTTP collector (receiver/otlpreceiver/otlphttp.go):
                 POST /v1/logs, Content-Type application/json or
                 application/x-protobuf (else 415); JSON must be an
                 ExportLogsServiceRequest (400); answers 200 {}; each
                 logRecord's body.stringValue is stored
--store-gzip (benchmarks) stores gzip NDJSON bodies as they came: the
store is one gzip stream of the events, and EVENTS is -1 in the log.
Bodies may be gzip'd; payloads: NDJSON, Elasticsearch _bulk (action
lines dropped) or Splunk HEC (the "event" member is stored).
"""
import argparse
import base64
import gzip
import http.server
import json
import re
import ssl
import sys
import threading
import time

lock = threading.Lock()


def json_objects(text):
    """Concatenated JSON values (NDJSON, or HEC's stacked objects)."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = dec.raw_decode(text, i)
        out.append(obj)
    return out


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def parse_events(path, body):
    lines = [l for l in body.split(b"\n") if l.strip()]
    if path.endswith("/_bulk"):
        # action line, document line, ...
        return [l for i, l in enumerate(lines) if i % 2 == 1]
    if "/services/collector" in path:
        # keep the event text as sent: re-serializing would change it
        return [dumps(o["event"]) for o in json_objects(body.decode())]
    return lines


LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
es_ids = set()          # _ids stored (elasticsearch)
items_seen = set()      # SEQs already answered 429 once
hec_ack = [0]


class Reject(Exception):
    def __init__(self, status, body=b"", headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def check_auth(opts, headers):
    got = headers.get("Authorization", "")
    if opts.basic:
        want = "Basic " + base64.b64encode(opts.basic.encode()).decode()
        if got != want:
            raise Reject(401, b'{"error":"unauthorized"}')
    if opts.api_key and got != "ApiKey " + opts.api_key:
        raise Reject(401, b'{"error":"api key"}')


def kind_test(h, body):
    opts = h.server.opts
    if opts.token and h.headers.get("Authorization", "").split(" ")[-1] != opts.token:
        raise Reject(401)
    check_auth(opts, h.headers)
    events = parse_events(h.path, body)
    resp = b'{"errors":false,"items":[]}' if h.path.endswith("/_bulk") else b"{}"
    return 200, resp, events


def kind_vector(h, body):
    # src/sources/util/http/prelude.rs: the configured path's segments,
    # then with strict_path an empty tail; else 404 "Not found"
    want = [x for x in h.server.opts.path.split("/") if x]
    got = [x for x in h.path.split("?")[0].split("/") if x]
    if got[:len(want)] != want or len(got) != len(want):
        raise Reject(404, b'{"code":404,"message":"Not found"}')
    check_auth(h.server.opts, h.headers)
    # framing newline_delimited, codec bytes: one event per line
    return 200, b"", [l for l in body.split(b"\n") if l]


def kind_fluentbit(h, body):
    ct = h.headers.get("Content-Type")
    if ct is None:
        raise Reject(400, b"error: header 'Content-Type' is not set\n")
    # http_prot.c: exactly application/json, or followed by ' ' or ';'
    low = ct.lower()
    if not (low == "application/json" or low.startswith("application/json ")
            or low.startswith("application/json;")
            or low == "application/x-www-form-urlencoded"):
        raise Reject(400, b"error: invalid 'Content-Type'\n")
    if not body:
        raise Reject(400, b"error: no payload found\n")
    try:
        objs = json_objects(body.decode())
    except ValueError:
        raise Reject(400, b"error: invalid payload\n")
    recs = []
    for o in objs:
        recs.extend(o if isinstance(o, list) else [o])
    if not all(isinstance(r, dict) for r in recs):
        raise Reject(400, b"error: invalid payload\n")
    # the record as the file output writes it back: re-serialized
    return 201, b"", [dumps(r) for r in recs]


def kind_logstash(h, body):
    ct = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ct == "application/json":
        # additional_codecs: the json codec makes one event of the body,
        # the line is not kept: what podtrail must not send
        try:
            json.loads(body)
        except ValueError:
            return 200, b"ok", []
        return 200, b"ok", [dumps(json.loads(body))]
    return 200, b"ok", [l for l in body.split(b"\n") if l]


def kind_elasticsearch(h, body, mode):
    opts = h.server.opts
    path = h.path.split("?")[0]
    if not (path == "/_bulk" or re.match(r"^/[^/_][^/]*/_bulk$", path)):
        raise Reject(404, b'{"error":"no handler found"}')
    ct = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ct not in ("application/json", "application/x-ndjson"):
        raise Reject(406, b'{"error":"Content-Type header is not supported","status":406}')
    check_auth(opts, h.headers)
    if opts.token and h.headers.get("Authorization", "") != "Bearer " + opts.token:
        raise Reject(401)
    if not body.endswith(b"\n"):
        raise Reject(400, b'{"error":"The bulk request must be terminated by a newline [\\\\n]"}')
    spec = {}
    if mode and mode[0] == "items" and len(mode) > 1:
        for x in mode[1].split(","):
            q, st = x.split(":")
            spec[q] = int(st)
    lines = [l for l in body.split(b"\n") if l]
    if len(lines) % 2:
        raise Reject(400, b'{"error":"action without a document"}')
    items, stored, errors = [], [], False
    for i in range(0, len(lines), 2):
        act = json.loads(lines[i])
        (op, meta), = act.items()
        doc = json.loads(lines[i + 1])
        _id = meta.get("_id")
        seq = str(doc.get("seq", doc.get("podtrail", {}).get("seq", "")))
        st, err = 201, None
        if op not in ("create", "index"):
            raise Reject(400, b'{"error":"unknown action"}')
        if opts.data_stream and op != "create":
            st, err = 400, "illegal_argument_exception: only write ops with an op_type of create are allowed in data streams"
        elif opts.data_stream and "@timestamp" not in doc:
            st, err = 400, "mapper_parsing_exception: data stream timestamp field [@timestamp] is missing"
        elif seq in spec and spec[seq] == 429 and seq not in items_seen:
            items_seen.add(seq)
            st, err = 429, "es_rejected_execution_exception: rejected execution"
        elif seq in spec and spec[seq] != 429:
            st, err = spec[seq], "mapper_parsing_exception: failed to parse"
        elif op == "create" and _id is not None and _id in es_ids:
            st, err = 409, "version_conflict_engine_exception: document already exists"
        item = {"_index": meta.get("_index"), "_id": _id, "status": st}
        if err:
            errors = True
            t, r = err.split(": ", 1)
            item["error"] = {"type": t, "reason": r}
        else:
            if _id is not None:
                es_ids.add(_id)
            stored.append(lines[i + 1])
        items.append({op: item})
    return 200, dumps({"took": 1, "errors": errors, "items": items}), stored


def kind_splunk(h, body):
    opts = h.server.opts
    if h.path.split("?")[0] not in ("/services/collector", "/services/collector/event",
                                    "/services/collector/event/1.0"):
        raise Reject(404, b'{"text":"The requested URL was not found on this server.","code":404}')
    auth = h.headers.get("Authorization")
    if auth is None:
        raise Reject(401, b'{"text":"Token is required","code":2}')
    if opts.token and auth != "Splunk " + opts.token:
        raise Reject(403, b'{"text":"Invalid token","code":4}')
    if opts.hec_ack and not h.headers.get("X-Splunk-Request-Channel"):
        raise Reject(400, b'{"text":"Data channel is missing","code":10}')
    try:
        objs = json_objects(body.decode())
    except ValueError:
        raise Reject(400, b'{"text":"Invalid data format","code":6}')
    if not objs or not all(isinstance(o, dict) and "event" in o for o in objs):
        raise Reject(400, b'{"text":"Event field is required","code":12}')
    events = [o["event"] if isinstance(o["event"], str) else dumps(o["event"]).decode()
              for o in objs]
    resp = {"text": "Success", "code": 0}
    if opts.hec_ack:
        hec_ack[0] += 1
        resp["ackId"] = hec_ack[0]
    return 200, dumps(resp), [e.encode() for e in events]


def kind_loki(h, body):
    if h.path.split("?")[0] not in ("/loki/api/v1/push", "/api/prom/push"):
        raise Reject(404, b"404 page not found\n")
    # auth_enabled (multi-tenant): the tenant comes from X-Scope-OrgID
    if h.server.opts.tenant and h.headers.get("X-Scope-OrgID") != h.server.opts.tenant:
        raise Reject(401, b"no org id\n")
    ct = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ct != "application/json":
        # push.go: anything but JSON is read as snappy'd protobuf
        raise Reject(400, b"loghttp: failed to parse push request (protobuf)\n")
    try:
        req = json.loads(body)
        lines = []
        for st in req["streams"]:
            labels = st["stream"]
            if not labels or not all(LABEL.match(k) and isinstance(v, str)
                                     for k, v in labels.items()):
                raise ValueError("bad labels")
            for v in st["values"]:
                if not (2 <= len(v) <= 3 and isinstance(v[0], str)
                        and v[0].isdigit() and isinstance(v[1], str)):
                    raise ValueError("bad entry")
                if len(v) == 3 and not all(isinstance(x, str) for x in v[2].values()):
                    raise ValueError("bad structured metadata")
                lines.append(v[1].encode())
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise Reject(400, str(e).encode())
    return 204, b"", lines


def kind_otlp(h, body):
    if h.path.split("?")[0] != "/v1/logs":
        raise Reject(404, b"404 page not found\n")
    ct = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ct not in ("application/json", "application/x-protobuf"):
        raise Reject(415, b"415 unsupported media type, supported: [application/json, application/x-protobuf]")
    try:
        req = json.loads(body)
        lines = []
        for rl in req["resourceLogs"]:
            for a in rl.get("resource", {}).get("attributes", []):
                if not isinstance(a["key"], str) or len(a["value"]) != 1:
                    raise ValueError("bad attribute")
            for sl in rl["scopeLogs"]:
                for r in sl["logRecords"]:
                    if not str(r.get("timeUnixNano", "0")).isdigit():
                        raise ValueError("bad timeUnixNano")
                    lines.append(r["body"]["stringValue"].encode())
    except (ValueError, KeyError, TypeError) as e:
        raise Reject(400, dumps({"code": 3, "message": str(e)}))
    return 200, b"{}", lines


KINDS = {"test": kind_test, "vector": kind_vector, "fluentbit": kind_fluentbit,
         "logstash": kind_logstash, "splunk": kind_splunk, "loki": kind_loki,
         "otlp": kind_otlp}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out as two writes: with Nagle on, the body
    # waits for the client's delayed ACK (~40 ms per request)
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def answer(self, status, extra=None, body=b"{}"):
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        opts = self.server.opts
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        enc = self.headers.get("Content-Encoding")
        gz = enc == "gzip"
        if opts.store_gzip:
            # benchmarks: keep the receiver's CPU off the machine under
            # test; gzip members concatenate, so zcat gives the NDJSON
            if not gz or "/_bulk" in self.path or "/services/" in self.path:
                self.log(415, 0, len(body))
                self.answer(415)
                return
        elif gz:
            body = gzip.decompress(body)
        elif enc and opts.kind == "vector" and enc not in ("identity",):
            self.log(415, 0, len(body))
            self.answer(415, body=b'{"code":415,"message":"Unsupported encoding"}')
            return
        try:
            mode = open(opts.control).read().split(None, 1)
        except OSError:
            mode = ["ok"]
        mode = mode or ["ok"]
        if len(mode) > 1:
            mode[1] = mode[1].strip()
        if mode[0] == "close":
            self.log(0, 0, len(body))
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode[0] == "midclose":
            # the answer is cut: headers and part of the body, then EOF
            self.log("midclose", 0, len(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "64")
            self.end_headers()
            self.wfile.write(b'{"errors":false,')
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode[0] == "stall":
            # a response that never ends: the client must time out
            self.log(-1, 0, len(body))
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"{")
            self.wfile.flush()
            time.sleep(3600)
            return
        if mode[0] in ("503", "400", "401", "403", "404"):
            self.log(int(mode[0]), 0, len(body))
            self.answer(int(mode[0]))
            return
        if mode[0] == "500":
            text = (mode[1] if len(mode) > 1 else "internal error").encode()
            self.log(500, 0, len(body))
            self.answer(500, body=text)
            return
        if mode[0] == "429":
            self.log(429, 0, len(body))
            self.answer(429, {"Retry-After": mode[1] if len(mode) > 1 else "1"})
            return
        if mode[0] == "413" and len(body) > int(mode[1] if len(mode) > 1 else 0):
            self.log(413, 0, len(body))
            self.answer(413, body=b'{"error":"request entity too large"}')
            return
        if mode[0] == "slow":
            self.log("slow", 0, len(body))
            time.sleep(float(mode[1]) if len(mode) > 1 else 2)
        if opts.store_gzip:
            if opts.token and self.headers.get("Authorization", "").split(" ")[-1] != opts.token:
                self.log(401, 0, len(body))
                self.answer(401)
                return
            with lock, open(opts.store, "ab") as f:
                f.write(body)
            self.log(200, -1, len(body))
            self.answer(200)
            return
        try:
            if opts.kind == "elasticsearch":
                with lock:
                    status, resp, events = kind_elasticsearch(self, body, mode)
            else:
                status, resp, events = KINDS[opts.kind](self, body)
        except Reject as r:
            self.log(r.status, 0, len(body))
            self.answer(r.status, r.headers, r.body)
            return
        with lock, open(opts.store, "ab") as f:
            for e in events:
                f.write(e.rstrip(b"\r") + b"\n")
        self.log(status, len(events), len(body))
        if status == 204:
            self.send_response(204)
            self.end_headers()
            return
        self.answer(status, body=resp)

    def log(self, status, events, nbytes):
        if self.server.opts.log:
            with lock, open(self.server.opts.log, "a") as f:
                f.write(f"{status} {events} {nbytes} {self.path}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    ap.add_argument("--store", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--log")
    ap.add_argument("--token")
    ap.add_argument("--kind", default="test",
                    choices=sorted(list(KINDS) + ["elasticsearch"]))
    ap.add_argument("--path", default="/", help="vector: the source's path")
    ap.add_argument("--basic", help="USER:PASS required (vector, elasticsearch)")
    ap.add_argument("--api-key", help="Elasticsearch ApiKey credential required")
    ap.add_argument("--data-stream", action="store_true",
                    help="elasticsearch: the index is a data stream")
    ap.add_argument("--tenant", help="loki: X-Scope-OrgID required")
    ap.add_argument("--hec-ack", action="store_true",
                    help="splunk: indexer acknowledgment on (channel required)")
    ap.add_argument("--store-gzip", action="store_true",
                    help="store gzip'd NDJSON bodies as received")
    opts = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    srv.daemon_threads = True
    srv.opts = opts
    if opts.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.cert, opts.key)
        if opts.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(opts.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
