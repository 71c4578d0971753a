#!/usr/bin/env python3
"""Check doc/openapi.yaml against the OpenAPI 3.0 schema and against a
running lethd (regress/openapi_test.sh).

    openapi_check.py lint DOC OAS_SCHEMA SRC
        the document is valid OpenAPI 3.0 (Draft 4 validation against the
        schema Debian's openapi-specification ships), and the routes the
        comments at the top of SRC/minerd/api*.c list are the document's
        operations, both ways
    openapi_check.py walk DOC --sock C --worker-sock W --worker-id ID
                          --worker-port PORT
        call every operation of the document on the controller C (and a
        few on the worker W to set things up), in PLAN's order, with the
        document's example values (a few replaced by the real peer id,
        token and port); each answer's status must be one the operation
        lists and its body must validate against that response's schema;
        every operation of the document must have been called.  Then a
        few wrong paths and methods: 404 and 405 with an error body.

python3 stdlib, PyYAML and jsonschema only.
"""

import copy
import glob
import http.client
import json
import os
import re
import socket
import sys
import time
import urllib.parse

import jsonschema
import yaml

API = "/api/v1"
METHODS = ("get", "post", "put", "delete")

# Example values in the document that stand for what the test made.
EX_WORKER_ID = "3f2a9c0d4b5e6f708192a3b4c5d6e7f8"
EX_TOKEN = "lethd1-TOKEN"
EX_WORKER_ADDR = "127.0.0.1:4700"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


# --- the document ---------------------------------------------------

def load_doc(path):
    with open(path) as f:
        return yaml.safe_load(f)


def resolve(doc, obj):
    """Follow a local $ref (one level at a time until none)."""
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            fail("non-local $ref " + ref)
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]
        obj = node
    return obj


def to_jsonschema(s):
    """An OpenAPI 3.0 schema object as JSON Schema (Draft 4)."""
    if isinstance(s, list):
        return [to_jsonschema(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in ("nullable", "example", "readOnly", "writeOnly",
                 "discriminator", "xml", "externalDocs", "deprecated"):
            continue
        if k == "$ref":
            out[k] = v.replace("#/components/schemas/", "#/definitions/")
        elif k in ("properties", "definitions"):
            out[k] = {pk: to_jsonschema(pv) for pk, pv in v.items()}
        elif k in ("items", "not", "additionalProperties", "allOf",
                   "anyOf", "oneOf"):
            out[k] = to_jsonschema(v)
        else:
            out[k] = copy.deepcopy(v)
    if s.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = out["enum"] + [None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


_defs = {}


def validator(doc, schema):
    if id(doc) not in _defs:
        _defs[id(doc)] = {k: to_jsonschema(v)
                          for k, v in doc["components"]["schemas"].items()}
    root = to_jsonschema(schema)
    root["definitions"] = _defs[id(doc)]
    return jsonschema.Draft4Validator(root)


def operations(doc):
    """{(METHOD, path): operation} of the document."""
    ops = {}
    for path, item in doc["paths"].items():
        for m in METHODS:
            if m in item:
                ops[(m.upper(), path)] = item[m]
    return ops


def norm(path):
    return re.sub(r"\{[^}]*\}", "{}", path)


# --- lint -----------------------------------------------------------

ROUTE_RE = re.compile(r"^\s*\*\s+(GET|POST|PUT|DELETE)\s+"
                      r"(/api/v1/[^\s\[?:]+)")


def code_routes(src):
    """(METHOD, path) the route comments of minerd/api*.c list."""
    routes = {}
    for f in sorted(glob.glob(os.path.join(src, "minerd", "api*.c"))):
        with open(f) as fh:
            head = fh.read().split("*/", 1)[0]
        for line in head.splitlines():
            m = ROUTE_RE.match(line)
            if m:
                path = m.group(2)[len(API):]
                routes[(m.group(1), norm(path))] = os.path.basename(f)
    return routes


def lint(docpath, schemapath, src):
    doc = load_doc(docpath)
    with open(schemapath) as f:
        oas = json.load(f)
    if not str(doc.get("openapi", "")).startswith("3.0."):
        fail("openapi is %r, want 3.0.x" % doc.get("openapi"))
    errs = list(jsonschema.Draft4Validator(oas).iter_errors(doc))
    for e in errs:
        print("%s: %s" % ("/".join(str(p) for p in e.absolute_path),
                          e.message[:300]), file=sys.stderr)
    if errs:
        fail("%d errors against the OpenAPI 3.0 schema" % len(errs))
    # every schema must compile, every response must have a schema
    for (m, p), op in operations(doc).items():
        for code, r in op["responses"].items():
            r = resolve(doc, r)
            c = r.get("content", {}).get("application/json")
            if c is None:
                fail("%s %s %s: no application/json schema" % (m, p, code))
            if "schema" not in c:
                fail("%s %s %s: no schema" % (m, p, code))
    # every schema, converted, is a valid JSON Schema
    jsonschema.Draft4Validator.check_schema(
        validator(doc, {"type": "object"}).schema)
    documented = {(m, norm(p)) for (m, p) in operations(doc)}
    code = code_routes(src)
    bad = 0
    for r in sorted(set(code) - documented):
        print("in %s, not in the document: %s %s" % (code[r], r[0], r[1]),
              file=sys.stderr)
        bad += 1
    for r in sorted(documented - set(code)):
        print("in the document, in no route comment of minerd/api*.c: "
              "%s %s" % r, file=sys.stderr)
        bad += 1
    if bad:
        fail("%d routes differ between the code and the document" % bad)
    print("document OK: %d operations, %d routes in the code comments" %
          (len(documented), len(code)))


# --- talking to the daemon ------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def call(sock, method, path, body=None):
    """(status, headers, parsed body or raw bytes)."""
    conn = UnixHTTPConnection(sock)
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw
    return r.status, hdrs, parsed


def subst(value, table):
    if isinstance(value, str):
        return table.get(value, value)
    if isinstance(value, list):
        return [subst(v, table) for v in value]
    if isinstance(value, dict):
        return {k: subst(v, table) for k, v in value.items()}
    return value


class Walker:
    def __init__(self, doc, socks, table):
        self.doc = doc
        self.ops = operations(doc)
        self.socks = socks
        self.table = table
        self.done = set()
        self.ncalls = 0
        self.saved = {}

    def request_for(self, method, path, example, extra):
        op = self.ops[(method, path)]
        url = path
        query = []
        params = list(self.doc["paths"][path].get("parameters", []))
        params += op.get("parameters", [])
        for p in params:
            p = resolve(self.doc, p)
            ex = p.get("example")
            if ex is None:
                if p.get("required"):
                    fail("%s %s: parameter %s has no example" %
                         (method, path, p["name"]))
                continue
            ex = subst(ex, self.table)
            if p["in"] == "path":
                url = url.replace("{%s}" % p["name"],
                                  urllib.parse.quote(str(ex), safe=""))
            elif p["in"] == "query":
                query.append((p["name"], str(ex)))
        body = None
        rb = op.get("requestBody")
        if rb is not None:
            rb = resolve(self.doc, rb)
            media = rb["content"]["application/json"]
            if example is not None:
                body = media["examples"][example]["value"]
            elif "example" in media:
                body = media["example"]
            elif "examples" in media:
                body = next(iter(media["examples"].values()))["value"]
            elif rb.get("required"):
                fail("%s %s: request body has no example" % (method, path))
            body = subst(copy.deepcopy(body), {**self.table, **extra})
            # the body must be what the document says a request is
            errs = list(validator(self.doc, media["schema"]).iter_errors(
                body))
            if errs:
                fail("%s %s: the document's own example is invalid: %s" %
                     (method, path, errs[0].message))
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return API + url, body

    def check(self, method, path, status, hdrs, body, what):
        op = self.ops[(method, path)]
        for h in hdrs:
            if h.startswith("access-control-"):
                fail("%s: a CORS header: %s" % (what, h))
        resp = op["responses"].get(str(status))
        if resp is None:
            fail("%s: status %d is not documented (%s); body %r" %
                 (what, status, ", ".join(sorted(op["responses"])), body))
        resp = resolve(self.doc, resp)
        if not hdrs.get("content-type", "").startswith("application/json"):
            fail("%s: Content-Type %r" % (what, hdrs.get("content-type")))
        schema = resp["content"]["application/json"]["schema"]
        errs = sorted(validator(self.doc, schema).iter_errors(body),
                      key=lambda e: list(e.absolute_path))
        if errs:
            for e in errs[:5]:
                print("  at %s: %s" % ("/".join(
                    str(p) for p in e.absolute_path), e.message[:300]),
                    file=sys.stderr)
            fail("%s: status %d: the body does not match the document: %s"
                 % (what, status, json.dumps(body)[:2000]))

    def step(self, node, method, path, expect=None, example=None,
             extra=None, url=None, body=None, save=None, until=None):
        url2, body2 = self.request_for(method, path, example, extra or {})
        url = url or url2
        body = body if body is not None else body2
        what = "%s %s (%s)" % (method, url, node)
        deadline = time.time() + 30
        while True:
            status, hdrs, resp = call(self.socks[node], method, url, body)
            self.ncalls += 1
            self.check(method, path, status, hdrs, resp, what)
            if until is None or until(status, resp) or \
                    time.time() > deadline:
                break
            time.sleep(0.2)
        ok = (status == expect) if expect is not None else \
            200 <= status < 300
        if not ok:
            fail("%s: status %d, want %s: %s" %
                 (what, status, expect or "2xx", json.dumps(resp)[:1000]))
        if until is not None and not until(status, resp):
            fail("%s: never became ready: %s" % (what, json.dumps(resp)))
        self.done.add((method, path))
        print("ok %d %s" % (status, what))
        if save is not None:
            self.saved[save] = resp
        return resp

    def wrong(self, node, method, url, status, allow=None):
        st, hdrs, resp = call(self.socks[node], method, API + url)
        what = "%s %s" % (method, url)
        if st != status:
            fail("%s: status %d, want %d" % (what, st, status))
        errs = list(validator(self.doc, {"$ref": "#/components/schemas/"
                                         "Error"}).iter_errors(resp))
        if errs:
            fail("%s: not an error body: %r" % (what, resp))
        if allow is not None and hdrs.get("allow") != allow:
            fail("%s: Allow %r, want %r" % (what, hdrs.get("allow"), allow))
        for h in hdrs:
            if h.startswith("access-control-"):
                fail("%s: a CORS header: %s" % (what, h))
        print("ok %d %s (wrong on purpose)" % (st, what))


def walk(args):
    doc = load_doc(args.doc)
    wid = args.worker_id
    table = {EX_WORKER_ID: wid,
             EX_WORKER_ADDR: "127.0.0.1:%s" % args.worker_port}
    w = Walker(doc, {"C": args.sock, "W": args.worker_sock}, table)

    def connected(st, r):
        return st == 200 and r.get("connected") is True

    def miner_has_lines(st, r):
        return st == 200 and len(r.get("lines", [])) > 0

    # the node: no identity yet, then one
    w.step("C", "GET", "/health")
    w.step("C", "GET", "/status")
    w.step("C", "GET", "/node/info", expect=404)
    w.step("C", "POST", "/node/init", expect=201)
    w.step("C", "GET", "/node/info")
    w.step("C", "POST", "/node/init", expect=409)

    # pairing: the worker opens, the controller pairs
    tok = w.step("W", "POST", "/node/pair", expect=201)
    w.table[EX_TOKEN] = tok["token"]
    w.step("C", "POST", "/peers", example="pair", expect=201)
    w.step("C", "GET", "/peers/{id}", until=connected)
    w.step("C", "GET", "/peers")
    w.step("C", "POST", "/peers/{id}/ping")

    # the registry: pin, import, remove, allow, deny, tags, best
    w.step("C", "POST", "/peers", example="pin", expect=201)
    w.step("C", "POST", "/peers", example="pin", expect=200)
    w.step("C", "POST", "/peers/import", expect=201)
    w.step("C", "DELETE", "/peers/{id}", expect=200)
    w.step("C", "DELETE", "/peers/{id}", expect=404)
    w.step("C", "POST", "/peers/allowlist", expect=201)
    w.step("C", "GET", "/peers/allowlist")
    w.step("C", "DELETE", "/peers/allowlist/{id}", expect=200)
    w.step("C", "DELETE", "/peers/allowlist/{id}", expect=404)
    w.step("C", "POST", "/peers/{id}/tags", expect=200)
    w.step("C", "DELETE", "/peers/{id}/tags", expect=200)
    w.step("C", "GET", "/peers/best")

    # profiles and miners on the controller
    w.step("C", "POST", "/profiles", expect=201)
    w.step("C", "POST", "/profiles", expect=409)
    w.step("C", "GET", "/profiles")
    w.step("C", "GET", "/profiles/{id}")
    w.step("C", "PUT", "/profiles/{id}", expect=200)
    w.step("C", "POST", "/miners", expect=201)
    w.step("C", "GET", "/miners")
    w.step("C", "GET", "/miners/{name}/stats", until=lambda st, r:
           st == 200 and r.get("readAt") is not None)
    w.step("C", "GET", "/miners/{name}/logs", until=miner_has_lines)
    w.step("C", "GET", "/history/{miner}")
    w.step("C", "POST", "/miners/{name}/restart", expect=200)
    w.step("C", "DELETE", "/profiles/{id}", expect=409)
    w.step("C", "DELETE", "/miners/{name}", expect=200)
    w.step("C", "DELETE", "/miners/{name}", expect=404)
    w.step("C", "DELETE", "/profiles/{id}", expect=200)
    w.step("C", "GET", "/profiles/{id}", expect=404)
    w.step("C", "POST", "/miners", expect=404)

    # the fleet: a profile on the worker, then remote control
    w.step("W", "POST", "/profiles", expect=201, extra={"p1": "wp1"})
    w.step("C", "GET", "/remote/stats")
    w.step("C", "GET", "/remote/{peer}/stats")
    w.step("C", "GET", "/remote/{peer}/profiles")
    ack = w.step("C", "POST", "/remote/{peer}/start")
    if ack.get("ok") is not True:
        fail("remote start: %r" % ack)
    w.step("C", "GET", "/remote/{peer}/logs/{miner}",
           until=miner_has_lines)
    # a worker's stats with a miner that has been read
    w.step("C", "GET", "/remote/{peer}/stats", until=lambda st, r:
           st == 200 and any(m.get("readAt") is not None
                             for m in r["stats"]["miners"]))
    w.step("C", "POST", "/remote/{peer}/restart")
    ack = w.step("C", "POST", "/remote/{peer}/stop")
    if ack.get("ok") is not True:
        fail("remote stop: %r" % ack)
    w.step("C", "POST", "/remote/{peer}/ping")

    missing = sorted(set(w.ops) - w.done)
    for m in missing:
        print("not exercised: %s %s" % m, file=sys.stderr)
    if missing:
        fail("%d documented operations were not called" % len(missing))

    # wrong paths and methods: 404, 405 with Allow, an error body
    w.wrong("C", "GET", "/nope", 404)
    w.wrong("C", "GET", "/peers/" + wid + "/nope", 404)
    w.wrong("C", "GET", "/peers/NOTANID", 404)
    w.wrong("C", "GET", "/miners/m1/nope", 404)
    w.wrong("C", "GET", "/remote/" + wid + "/nope", 404)
    w.wrong("C", "DELETE", "/health", 405, allow="GET")
    w.wrong("C", "POST", "/peers/" + wid, 405, allow="GET, DELETE")
    w.wrong("C", "GET", "/remote/" + wid + "/start", 405, allow="POST")
    w.wrong("C", "PUT", "/miners", 405, allow="GET, POST")
    print("walked %d operations in %d calls" % (len(w.done), w.ncalls))


def main():
    import argparse
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("lint")
    lp.add_argument("doc")
    lp.add_argument("schema")
    lp.add_argument("src")
    wp = sub.add_parser("walk")
    wp.add_argument("doc")
    wp.add_argument("--sock", required=True)
    wp.add_argument("--worker-sock", required=True)
    wp.add_argument("--worker-id", required=True)
    wp.add_argument("--worker-port", required=True)
    args = ap.parse_args()
    if args.cmd == "lint":
        lint(args.doc, args.schema, args.src)
    else:
        walk(args)


if __name__ == "__main__":
    main()
