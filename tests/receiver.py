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
Every request is logged to --log as "STATUS EVENTS BYTES PATH".
--store-gzip (benchmarks) stores gzip NDJSON bodies as they came: the
store is one gzip stream of the events, and EVENTS is -1 in the log.
Bodies may be gzip'd; payloads: NDJSON, Elasticsearch _bulk (action
lines dropped) or Splunk HEC (the "event" member is stored).
"""
import argparse
import gzip
import http.server
import json
import ssl
import sys
import threading
import time

lock = threading.Lock()


def parse_events(path, body):
    lines = [l for l in body.split(b"\n") if l.strip()]
    if path.endswith("/_bulk"):
        # action line, document line, ...
        return [l for i, l in enumerate(lines) if i % 2 == 1]
    if "/services/collector" in path:
        out = []
        dec = json.JSONDecoder()
        text = body.decode()
        i = 0
        while i < len(text):
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                break
            obj, i = dec.raw_decode(text, i)
            # keep the event text as sent: re-serializing would change it
            out.append(json.dumps(obj["event"], separators=(",", ":"),
                                  ensure_ascii=False).encode())
        return out
    return lines


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
        gz = self.headers.get("Content-Encoding") == "gzip"
        if opts.store_gzip:
            # benchmarks: keep the receiver's CPU off the machine under
            # test; gzip members concatenate, so zcat gives the NDJSON
            if not gz or "/_bulk" in self.path or "/services/" in self.path:
                self.log(415, 0, len(body))
                self.answer(415)
                return
        elif gz:
            body = gzip.decompress(body)
        try:
            mode = open(opts.control).read().split()
        except OSError:
            mode = ["ok"]
        mode = mode or ["ok"]
        status = 200
        if opts.token and self.headers.get("Authorization", "").split(" ")[-1] != opts.token:
            status = 401
        elif mode[0] == "close":
            self.log(0, 0, len(body))
            self.close_connection = True
            self.connection.shutdown(2)
            return
        elif mode[0] == "stall":
            # a response that never ends: the client must time out
            self.log(-1, 0, len(body))
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"{")
            self.wfile.flush()
            time.sleep(3600)
            return
        elif mode[0] in ("503", "400"):
            status = int(mode[0])
        elif mode[0] == "429":
            self.log(429, 0, len(body))
            self.answer(429, {"Retry-After": mode[1] if len(mode) > 1 else "1"})
            return
        elif mode[0] == "slow":
            self.log("slow", 0, len(body))
            time.sleep(float(mode[1]) if len(mode) > 1 else 2)
        if status == 200 and opts.store_gzip:
            with lock, open(opts.store, "ab") as f:
                f.write(body)
            self.log(200, -1, len(body))
            self.answer(200)
            return
        if status == 200:
            # a Fluent Bit-style parser failure would be a 400 instead
            events = parse_events(self.path, body)
            with lock, open(opts.store, "ab") as f:
                for e in events:
                    f.write(e.rstrip(b"\r") + b"\n")
            self.log(200, len(events), len(body))
            resp = b'{"errors":false,"items":[]}' if self.path.endswith("/_bulk") else b"{}"
            self.answer(200, body=resp)
            return
        self.log(status, 0, len(body))
        self.answer(status)

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
