#!/usr/bin/env python3
"""tests/cli/lib/fake_exchange.py -- a fake hash exchange for the sync tests.

Serves the fixture pages of one exchange type (tests/fixtures/exchange) on
127.0.0.1, --port or any free port (written to --port-file), the way the real
exchange pages them: NCMEC by the `start` of paging/next, StopNCII by
nextPageToken, TAT and ThreatExchange (te) by `after`.  A request that continues from a later
checkpoint gets an empty last page.  Every request path is appended to
--log.  Scenarios (--scenario, comma-separated):
  fail-once:N     page N answers 503 the first time
  fail-always:N   page N always answers 500
  malformed:N     page N is not a page
  stall:N         page N is served in place of page N+1 (its next repeats)
  foreign-next:N  page N's next names another host
  slow:N          page N is answered after --slow seconds (default 3)
Authentication: --header 'Name: value' (repeatable) and --basic user:pass
must be present, else 401.  --login user:pass:token answers TAT's login,
POST /token-auth/tcap/ with that username and password, with {"token": token}
(401 for others); every POST is logged as "POST path body-keys".  The server stops by itself after --lifetime s.
"""
import argparse, base64, json, os, re, sys, threading, time, urllib.parse
from http.server import HTTPServer, BaseHTTPRequestHandler

ap = argparse.ArgumentParser()
ap.add_argument("--type", required=True, choices=["ncmec", "stopncii", "tat", "te"])
ap.add_argument("--pages", nargs="+", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--scenario", default="")
ap.add_argument("--header", action="append", default=[])
ap.add_argument("--basic")
ap.add_argument("--login")
ap.add_argument("--lifetime", type=float, default=60)
ap.add_argument("--slow", type=float, default=3)
ap.add_argument("--port", type=int, default=0, help="0: any free port")
args = ap.parse_args()

pages = [open(p, encoding="utf-8").read() for p in args.pages]
scen = {}
for s in filter(None, args.scenario.split(",")):
    k, v = s.split(":")
    scen[k] = int(v)
served = {}

def next_key(body):
    """The key in a page's next link that selects the page after it."""
    if args.type == "stopncii":
        m = re.search(r'"nextPageToken"\s*:\s*"([^"]*)"', body)
        return m and m.group(1)
    if args.type in ("tat", "te"):
        m = re.search(r'"next"\s*:\s*"[^"]*after=([^"&]*)"', body)
        return m and urllib.parse.unquote(m.group(1))
    m = re.search(r"<next>[^<]*start=(\d+)", body)
    return m and m.group(1)

keys = {next_key(pages[i]): i + 1 for i in range(len(pages) - 1)}

def empty_page(q):
    if args.type == "stopncii":
        ts = int(q.get("startTimestamp", ["0"])[0])
        return json.dumps({"count": 0, "nextPageToken": None, "nextSetTimestamp": ts,
                           "hasMoreRecords": False, "hashRecords": []})
    if args.type == "tat":
        return json.dumps({"count": 0, "next": None, "previous": None,
                           "checkpoint": q.get("after", [""])[0], "results": []})
    if args.type == "te":
        return json.dumps({"data": [], "paging": {"cursors": {}}})
    frm = q.get("from", [""])[0]
    return ('<?xml version="1.0"?><queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">'
            '<images count="0" maxTimestamp="%s"/></queryResult>' % frm)

def page_index(q):
    """0-based page for the query, or None for an empty last page."""
    key = {"stopncii": "nextPageToken", "tat": "after", "te": "after", "ncmec": "start"}[args.type]
    if key in q:
        return keys.get(q[key][0])
    if args.type == "te" and q.get("start_time", ["0"])[0] != "0":
        return None
    if args.type == "stopncii" and q.get("startTimestamp", ["0"])[0] != "0":
        return None
    if args.type == "ncmec" and q.get("from", [""])[0] != "1970-01-01T00:00:00Z":
        return None
    return 0

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="application/json"):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        with open(args.log, "a") as f:
            f.write(self.path + "\n")
        for h in args.header:
            name, value = h.split(": ", 1)
            if self.headers.get(name) != value:
                return self.send(401, '{"error":"unauthorized"}')
        if args.basic:
            want = "Basic " + base64.b64encode(args.basic.encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.send(401, "unauthorized", "text/plain")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        i = page_index(q)
        ctype = "application/xml" if args.type == "ncmec" else "application/json"
        if i is None:
            return self.send(200, empty_page(q), ctype)
        n = i + 1
        served[n] = served.get(n, 0) + 1
        if scen.get("fail-once") == n and served[n] == 1:
            return self.send(503, "busy", "text/plain")
        if scen.get("slow") == n:
            time.sleep(args.slow)
        if scen.get("fail-always") == n:
            return self.send(500, "broken", "text/plain")
        if scen.get("malformed") == n:
            return self.send(200, "<html>maintenance</html>" if args.type != "ncmec" else "{}", ctype)
        if "stall" in scen and scen["stall"] + 1 == n:
            i = scen["stall"] - 1
        body = pages[i].replace("http://127.0.0.1/", "http://127.0.0.1:%d/" % port)
        if scen.get("foreign-next") == n:
            body = body.replace("http://127.0.0.1:%d/" % port, "http://127.0.0.2:%d/" % port)
        self.send(200, body, ctype)

def do_POST(self):
    n = int(self.headers.get("Content-Length", "0"))
    form = urllib.parse.parse_qs(self.rfile.read(n).decode())
    with open(args.log, "a") as f:
        f.write("POST %s %s\n" % (self.path, ",".join(sorted(form))))
    if not args.login or self.path != "/token-auth/tcap/":
        return self.send(404, '{"detail":"not found"}')
    user, pw, token = args.login.split(":", 2)
    if form.get("username") != [user] or form.get("password") != [pw]:
        return self.send(401, '{"detail":"bad credentials"}')
    self.send(200, json.dumps({"token": token, "user": {"username": user}}))

H.do_POST = do_POST
srv = HTTPServer(("127.0.0.1", args.port), H)
port = srv.server_address[1]
threading.Timer(args.lifetime, srv.shutdown).start()
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(port))
os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
