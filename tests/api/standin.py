#!/usr/bin/env python3
"""A stand-in for HTTP embedding APIs, for testing fidx's remote embedders.

Python 3 standard library only. It serves, on 127.0.0.1:

  Hugging Face feature-extraction (hf-inference):
    POST /hf-inference/models/<model id>/pipeline/feature-extraction
    POST /hf-inference/models/<model id>
    POST /models/<model id>                 (410 with --gone-models)
    POST /pipeline/feature-extraction/<id>  410 Gone: the retired URL
        {"inputs": str | [str], ...}  ->  [dim] for a string, [n][dim] for a list
  text-embeddings-inference (TEI):
    POST /embed {"inputs": str | [str], ...}  ->  [[dim]...] always
    GET  /info, GET /health
  OpenAI-compatible:
    POST /v1/embeddings {"model", "input": str | [str], "encoding_format"}
        data items come back in a shuffled (seeded, deterministic) order;
        clients must place them by "index".
  Test control (never subject to auth, faults or latency; not counted):
    GET  /_stats     counts of requests, per status, per path, retries,
                     concurrency, Authorization presence (never its value)
    POST /_control   {"faults": SPEC, "append_faults": SPEC, "latency_ms": N,
                      "reset_stats": true, "seed": N}

Vectors come from a bit-exact port of fidx's offline embedder "hash"
(io/embedders/embed_hash.c, model fidx-hash-v1), whatever model is asked for, so a test
can compare what a client stored with `fidx build --texts --save-embeddings`.
Known models: sentence-transformers/all-MiniLM-L6-v2 and fidx/hash (and those
given with --model); others are 404. A text with no words (empty, or only
punctuation) is answered with 422.

Fault injection: SPEC is a comma list of name[:count][@arg]; each fault is
applied to the next `count` embedding requests (POSTs to the three embedding
APIs that pass the auth check), in order; count "*" means every request from
then on. See FAULTS below for the names.

Usage:
  python3 standin.py [--port 0] [--dim 384] [--token T] [--latency-ms N]
                     [--faults SPEC] [--log FILE] [--redirect-port P] ...
Prints "READY <port> [<redirect port>]" on stdout once listening (port 0
asks for any free port, for --redirect-port too); serves until SIGTERM/SIGINT,
then exits 0. The token is never written to stdout, stderr, the log or
/_stats.
"""

import argparse
import base64
import functools
import hashlib
import hmac
import json
import math
import os
import random
import re
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------------------
# The offline embedder, ported from io/embedders/embed_hash.c (fidx-hash-v1).
# Same features, same hashes, same order of double arithmetic: the float32
# results are bit-identical to the C code's.

HASH_MODEL = "fidx-hash-v1"

# 1 + ln(c) for c = 1..32, the C file's table (not recomputed with math.log).
_SUBLINEAR = (
    1.0, 1.6931471805599454, 2.09861228866811, 2.386294361119891,
    2.6094379124341005, 2.791759469228055, 2.9459101490553135, 3.0794415416798357,
    3.1972245773362196, 3.302585092994046, 3.3978952727983707, 3.4849066497880004,
    3.5649493574615367, 3.6390573296152584, 3.70805020110221, 3.772588722239781,
    3.833213344056216, 3.8903717578961645, 3.9444389791664403, 3.995732273553991,
    4.044522437723423, 4.091042453358316, 4.13549421592915, 4.178053830347945,
    4.218875824868201, 4.258096538021482, 4.295836866004329, 4.332204510175204,
    4.367295829986475, 4.401197381662156, 4.433987204485146, 4.465735902799727,
)

_M64 = 0xFFFFFFFFFFFFFFFF
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_KIND_WORD = ord("w")
_KIND_GRAM = ord("g")
_WORD_WEIGHT = 1.0
_GRAM_WEIGHT = 0.25
_MAX_WORD = 64  # longer words: hashed whole, n-grams of the first 64 bytes

_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_WORD_RE = re.compile(rb"[a-z0-9\x80-\xff]+")


def _mix(z):
    """splitmix64's finisher."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _feature_hash(kind, data):
    """64-bit FNV-1a over the kind byte then data, finished with _mix."""
    h = ((_FNV_OFFSET ^ kind) * _FNV_PRIME) & _M64
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _M64
    return _mix(h)


def _as_bytes(text):
    return text if isinstance(text, (bytes, bytearray)) else text.encode("utf-8")


def hash_words(text):
    """The words of a text (bytes, or str taken as UTF-8) as the embedder sees them."""
    return _WORD_RE.findall(_as_bytes(text).translate(_LOWER))


def hash_embed(text, dim=384):
    """Embeds one text (str as UTF-8, or bytes) into a list of dim floats,
    each exactly a float32 value, L2-normalized; None when the text yields
    no features (empty or only punctuation), as fidx_hash_embed returns 0."""
    if dim <= 0:
        return None
    features = {}  # hash -> [weight, count]

    def add(h, w):
        f = features.get(h)
        if f is None:
            features[h] = [w, 1]
        else:
            f[1] += 1

    for word in hash_words(text):
        add(_feature_hash(_KIND_WORD, word), _WORD_WEIGHT)
        padded = b"<" + word[:_MAX_WORD] + b">"
        n = len(padded)
        for g in (3, 4):
            for k in range(n - g + 1):
                add(_feature_hash(_KIND_GRAM, padded[k:k + g]), _GRAM_WEIGHT)
    if not features:
        return None
    acc = [0.0] * dim
    for h in sorted(features):  # ascending hash: the C code's qsort order
        weight, count = features[h]
        v = weight * _SUBLINEAR[min(count, 32) - 1]
        acc[h % dim] += -v if h >> 63 else v
    norm = 0.0
    for a in acc:  # slot order
        norm += a * a
    norm = math.sqrt(norm)
    if not norm > 0:
        return None
    return list(struct.unpack("<%df" % dim, struct.pack("<%df" % dim, *[a / norm for a in acc])))


@functools.lru_cache(maxsize=65536)
def _memo_embed(raw, dim):
    """hash_embed, remembered: benchmarks send the same texts again, and the
    stand-in should cost as little as it can next to the latency it adds."""
    v = hash_embed(raw, dim)
    return None if v is None else tuple(v)


# ---------------------------------------------------------------------------
# Faults.

# name -> kind of argument: None (no argument allowed), "seconds" (a
# non-negative number), "retry" (optional Retry-After value), "port".
FAULTS = {
    "loading": "seconds",   # 503 {"error": "Model X is currently loading", "estimated_time": arg (20.0)}
    "ratelimit": "retry",   # 429; with @arg a Retry-After: arg header, without none
    "error500": None,       # 500 with a JSON error
    "error400": None,       # 400 with a JSON error
    "slowbody": "seconds",  # 200 headers, then the real body 1 byte every arg (1.0) seconds
    "hang": None,           # read the request, never answer (until the client goes away)
    "badjson": None,        # 200 application/json whose body is not JSON
    "truncated": None,      # 200, Content-Length of the whole body, half of it sent, close
    "html": None,           # 200 text/html page (a captive portal)
    "wrongdim": None,       # every vector has dim-1 values
    "wrongcount": None,     # one vector fewer (the last)
    "nonfinite": None,      # the first value of the first vector is NaN (JSON: NaN)
    "redirect": "port",     # 302 to the same path on 127.0.0.1:arg (default --redirect-port)
    "endless": None,        # 200, chunked body that never ends
    "tokenlevel": None,     # HF only: [n][3][dim] token-level output (others: no effect)
    "toolarge": None,       # 413 with TEI's batch-size message
    "pass": None,           # answered normally (to let the first requests through)
}
DATA_FAULTS = ("wrongdim", "wrongcount", "nonfinite", "tokenlevel")
DELIVERY_FAULTS = ("slowbody", "truncated")


class SpecError(ValueError):
    pass


def parse_faults(spec, redirect_port=None):
    """Parses "name[:count][@arg],..." into [name, count or None (forever), arg]."""
    out = []
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        m = re.fullmatch(r"([a-z0-9]+)(?::([0-9]+|\*))?(?:@(.*))?", item)
        if not m:
            raise SpecError("bad fault %r (expected name[:count][@arg])" % item)
        name, count, arg = m.group(1), m.group(2), m.group(3)
        if name not in FAULTS:
            raise SpecError("unknown fault %r (known: %s)" % (name, ", ".join(sorted(FAULTS))))
        if count is None:
            count = 1
        elif count == "*":
            count = None
        else:
            count = int(count)
            if count < 1:
                raise SpecError("fault %r: count must be at least 1" % item)
        kind = FAULTS[name]
        if arg is not None and kind is None:
            raise SpecError("fault %r takes no argument" % name)
        if kind == "seconds":
            if arg is None:
                arg = 20.0 if name == "loading" else 1.0
            else:
                try:
                    arg = float(arg)
                except ValueError:
                    arg = -1.0
                if not (math.isfinite(arg) and arg >= 0):
                    raise SpecError("fault %r: @arg must be a number of seconds" % item)
        elif kind == "retry":
            if arg is not None and not re.fullmatch(r"[0-9]+(\.[0-9]+)?", arg):
                raise SpecError("fault %r: @arg must be a number of seconds" % item)
        elif kind == "port":
            if arg is None:
                if redirect_port is None:
                    raise SpecError("fault %r needs @PORT (or --redirect-port)" % item)
                arg = redirect_port
            else:
                if not arg.isdigit() or not 1 <= int(arg) <= 65535:
                    raise SpecError("fault %r: @arg must be a port" % item)
                arg = int(arg)
        out.append([name, count, arg])
    return out


def format_faults(queue):
    parts = []
    for name, count, arg in queue:
        s = name + (":*" if count is None else ":%d" % count)
        if arg is not None:
            s += "@%s" % (arg,)
        parts.append(s)
    return ",".join(parts)


# ---------------------------------------------------------------------------
# Shared state: configuration, fault queue, statistics.

MAX_BODY = 2_000_000  # TEI's default payload limit
MAX_LOG_ENTRIES = 10_000
OPENAI_MAX_INPUTS = 2048


class State:
    def __init__(self, opts):
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.dim = opts.dim
        self.token = opts.token
        self.latency_ms = opts.latency_ms
        self.max_batch = opts.max_batch
        self.seed = opts.seed
        self.models = {"sentence-transformers/all-MiniLM-L6-v2", "fidx/hash"} | set(opts.model or [])
        self.info_model = opts.info_model
        self.gone_models = opts.gone_models
        self.redirect_port = opts.redirect_port
        self.faults = parse_faults(opts.faults, opts.redirect_port)
        self.logfile = open(opts.log, "a", encoding="utf-8", buffering=1) if opts.log else None
        self.reset_stats()

    def reset_stats(self):
        with self.lock:
            self.requests = 0
            self.by_status = {}
            self.by_path = {}
            self.faults_applied = {}
            self.retries = 0
            self.auth_present = 0
            self.auth_absent = 0
            self.in_flight = 0
            self.max_concurrent = 0
            self.redirect_requests = 0
            self.redirect_auth_present = 0
            self.seen = set()
            self.entries = []
            self.entries_dropped = 0

    def take_fault(self):
        with self.lock:
            if not self.faults:
                return None
            f = self.faults[0]
            if f[1] is not None:
                f[1] -= 1
                if f[1] == 0:
                    self.faults.pop(0)
            self.faults_applied[f[0]] = self.faults_applied.get(f[0], 0) + 1
            return f[0], f[2]

    def redact(self, s):
        if self.token and self.token in s:
            s = s.replace(self.token, "<redacted>")
        return s

    def begin(self, listener, method, path, auth_present, auth_ok):
        entry = {"listener": listener, "method": method, "path": self.redact(path),
                 "status": None, "auth": auth_present, "auth_ok": auth_ok,
                 "fault": None, "retry": False, "inputs": 0, "t0": time.monotonic()}
        with self.lock:
            if listener == "main":
                self.requests += 1
                entry["n"] = self.requests
                self.by_path[entry["path"]] = self.by_path.get(entry["path"], 0) + 1
                if auth_present:
                    self.auth_present += 1
                else:
                    self.auth_absent += 1
                self.in_flight += 1
                self.max_concurrent = max(self.max_concurrent, self.in_flight)
            else:
                self.redirect_requests += 1
                entry["n"] = self.redirect_requests
                if auth_present:
                    self.redirect_auth_present += 1
            if len(self.entries) >= MAX_LOG_ENTRIES:
                self.entries.pop(0)
                self.entries_dropped += 1
            self.entries.append(entry)
        return entry

    def note_body(self, entry, method, path, body):
        key = hashlib.sha256(b"%s %s\n" % (method.encode(), path.encode()) + body).digest()
        entry["inputs"] = _soft_count(body) if body else 0
        with self.lock:
            if key in self.seen:
                entry["retry"] = True
                if entry["listener"] == "main":
                    self.retries += 1
            elif len(self.seen) < 100_000:
                self.seen.add(key)

    def end(self, entry):
        ms = round((time.monotonic() - entry.pop("t0")) * 1000, 3)
        entry["ms"] = ms
        with self.lock:
            if entry["listener"] == "main":
                self.in_flight -= 1
                if entry["status"] is not None:
                    k = str(entry["status"])
                    self.by_status[k] = self.by_status.get(k, 0) + 1
        if self.logfile:
            line = dict(entry, time=round(time.time(), 3))
            try:
                with self.lock:
                    self.logfile.write(json.dumps(line, sort_keys=True) + "\n")
            except (OSError, ValueError):
                pass

    def stats(self):
        with self.lock:
            return {
                "requests": self.requests,
                "by_status": dict(self.by_status),
                "by_path": dict(self.by_path),
                "retries": self.retries,
                "max_concurrent": self.max_concurrent,
                "in_flight": self.in_flight,
                "auth": {"present": self.auth_present, "absent": self.auth_absent},
                "faults_applied": dict(self.faults_applied),
                "faults_pending": format_faults(self.faults),
                "latency_ms": self.latency_ms,
                "redirect": {"requests": self.redirect_requests,
                             "auth_present": self.redirect_auth_present},
                "log": [{k: v for k, v in e.items() if k != "t0"} for e in self.entries],
                "log_dropped": self.entries_dropped,
            }


# ---------------------------------------------------------------------------
# HTTP.

class Reply(Exception):
    """An error answer: status, message, and the protocol's error type/code."""

    def __init__(self, status, message, etype="Validation", code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.etype = etype
        self.code = code
        self.headers = headers or {}


class ClientGone(Exception):
    pass


def error_body(proto, status, message, etype="Validation", code=None):
    if proto == "openai":
        return {"error": {"message": message, "type": etype, "param": None, "code": code}}
    if proto == "tei":
        return {"error": message, "error_type": etype}
    return {"error": message}


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def _proto_of(route):
    if route == "/v1/embeddings":
        return "openai"
    if route in ("/embed", "/info", "/health"):
        return "tei"
    return "hf"


_HF_ROUTES = (
    re.compile(r"/hf-inference/models/(.+?)/pipeline/feature-extraction/?"),
    re.compile(r"/hf-inference/models/(.+?)/?"),
    re.compile(r"/models/(.+?)/?"),
)
_GONE_ROUTE = re.compile(r"/pipeline/feature-extraction/(.+?)/?")
ROUTER_URL = "https://router.huggingface.co/hf-inference/models/%s/pipeline/feature-extraction"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fidx-standin/1"
    sys_version = ""
    timeout = 120  # idle keep-alive connections and slow uploads

    # -- plumbing ----------------------------------------------------------

    def log_message(self, fmt, *args):  # our own log instead (see State.end)
        pass

    def log_request(self, code="-", size="-"):
        # Called by send_response: records the status actually sent.
        entry = getattr(self, "_entry", None)
        if entry is not None:
            try:
                entry["status"] = int(getattr(code, "value", code))
            except (TypeError, ValueError):
                pass

    def send_error(self, code, message=None, explain=None):
        # http.server's own errors (bad request line, headers too long, ...)
        # as JSON rather than HTML.
        try:
            short, _ = self.responses.get(code, ("Error", ""))
        except AttributeError:
            short = "Error"
        body = json.dumps({"error": message or short}).encode()
        self.close_connection = True
        try:
            self.send_response(code, message and message.encode("latin-1", "replace").decode("latin-1"))
            self.send_header("Connection", "close")
            if code >= 200 and code not in (204, 304):
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def _send(self, status, body, ctype="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status, obj, headers=None):
        self._send(status, json.dumps(obj, allow_nan=True).encode(), headers=headers)

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding")
        if te is not None:
            if te.strip().lower() != "chunked":
                self.close_connection = True
                raise Reply(501, "unsupported Transfer-Encoding")
            return self._read_chunked()
        cl = self.headers.get_all("Content-Length") or []
        if not cl:
            return b""
        if len(set(v.strip() for v in cl)) != 1 or not cl[0].strip().isdigit():
            self.close_connection = True
            raise Reply(400, "invalid Content-Length")
        n = int(cl[0])
        if n > MAX_BODY:
            self.close_connection = True
            raise Reply(413, "payload too large (%d > %d bytes)" % (n, MAX_BODY))
        data = self.rfile.read(n)
        if len(data) < n:
            self.close_connection = True
            raise ClientGone()
        return data

    def _read_chunked(self):
        data = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise ClientGone()
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise Reply(400, "bad chunk size") from None
            if size < 0 or len(data) + size > MAX_BODY:
                self.close_connection = True
                raise Reply(413, "payload too large")
            if size == 0:
                while True:  # trailers
                    t = self.rfile.readline(65537)
                    if not t:
                        raise ClientGone()
                    if t in (b"\r\n", b"\n"):
                        return bytes(data)
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ClientGone()
            data += chunk
            self.rfile.readline(1024)  # CRLF after the chunk

    def _wait(self, seconds):
        """Sleeps, waking up for shutdown; True when the server is stopping."""
        return STATE.stop.wait(seconds)

    def _client_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            return bool(r) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # -- entry points ------------------------------------------------------

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_OPTIONS(self):
        self._dispatch()

    def _dispatch(self):
        self._entry = None
        route = urllib.parse.urlsplit(self.path).path or "/"
        if route.startswith("/_"):
            return self._guard(lambda: self._control(route), "hf")
        auth = self.headers.get("Authorization")
        auth_ok = None
        if STATE.token is not None:
            expected = ("Bearer " + STATE.token).encode()
            auth_ok = auth is not None and hmac.compare_digest(
                auth.strip().encode("utf-8", "replace"), expected)
        listener = getattr(self.server, "listener", "main")
        self._entry = STATE.begin(listener, self.command, route, auth is not None, auth_ok)
        try:
            self._guard(lambda: self._api(route, listener, auth_ok), _proto_of(route))
        finally:
            STATE.end(self._entry)
            self._entry = None

    def _guard(self, fn, proto):
        """Runs fn; a Reply becomes the protocol's error answer, a vanished
        client closes the connection, anything else is a 500."""
        try:
            fn()
        except Reply as r:
            try:
                self._send_json(r.status, error_body(proto, r.status, r.message, r.etype, r.code),
                                r.headers)
            except OSError:
                self.close_connection = True
        except (ClientGone, OSError):
            self.close_connection = True
        except Exception:  # a bug: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self._send_json(500, error_body(proto, 500, "internal error in the stand-in", "Backend"))
            except Exception:
                pass

    # -- control -----------------------------------------------------------

    def _control(self, route):
        body = self._read_body()
        if route == "/_stats" and self.command in ("GET", "HEAD"):
            return self._send_json(200, STATE.stats())
        if route == "/_control" and self.command == "POST":
            req = _parse_json(body)
            if not isinstance(req, dict):
                raise Reply(400, "/_control wants a JSON object")
            unknown = set(req) - {"faults", "append_faults", "latency_ms", "reset_stats", "seed"}
            if unknown:
                raise Reply(400, "unknown /_control field(s): %s" % ", ".join(sorted(unknown)))
            try:
                new = {k: parse_faults(req[k], STATE.redirect_port) for k in ("faults", "append_faults")
                       if k in req and isinstance(req[k], str)}
            except SpecError as e:
                raise Reply(400, str(e)) from None
            for k in ("faults", "append_faults"):
                if k in req and not isinstance(req[k], str):
                    raise Reply(400, "%s must be a string" % k)
            lat = req.get("latency_ms")
            if "latency_ms" in req and (isinstance(lat, bool) or not isinstance(lat, (int, float))
                                        or not math.isfinite(lat) or lat < 0):
                raise Reply(400, "latency_ms must be a number >= 0")
            seed = req.get("seed")
            if "seed" in req and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise Reply(400, "seed must be an integer")
            if req.get("reset_stats"):
                STATE.reset_stats()
            with STATE.lock:
                if "faults" in new:
                    STATE.faults = new["faults"]
                if "append_faults" in new:
                    STATE.faults.extend(new["append_faults"])
                if "latency_ms" in req:
                    STATE.latency_ms = lat
                if "seed" in req:
                    STATE.seed = seed
                pending = format_faults(STATE.faults)
            return self._send_json(200, {"ok": True, "faults_pending": pending,
                                         "latency_ms": STATE.latency_ms})
        if route in ("/_stats", "/_control"):
            raise Reply(405, "method %s not allowed on %s" % (self.command, route))
        raise Reply(404, "no such control path: %s" % route)

    # -- the APIs ----------------------------------------------------------

    def _api(self, route, listener, auth_ok):
        body = self._read_body()
        STATE.note_body(self._entry, self.command, route, body)
        if STATE.latency_ms:
            if self._wait(STATE.latency_ms / 1000.0):
                raise ClientGone()
        proto = _proto_of(route)
        m = _GONE_ROUTE.fullmatch(route)
        gone = m is not None
        if not gone and STATE.gone_models and re.fullmatch(r"/models/.+", route):
            m, gone = _HF_ROUTES[2].fullmatch(route), True
        if gone:
            model = urllib.parse.unquote(m.group(1))
            raise Reply(410, "https://api-inference.huggingface.co is no longer supported. "
                             "Please use https://router.huggingface.co instead: POST " + ROUTER_URL % model)
        if auth_ok is False and listener == "main":
            raise Reply(401, "Invalid credentials", "invalid_request_error",
                        "invalid_api_key", {"WWW-Authenticate": "Bearer"})
        model = None
        if route in ("/embed", "/v1/embeddings"):
            kind = route
        elif route == "/info":
            kind = "info"
        elif route == "/health":
            kind = "health"
        else:
            kind = None
            for rx in _HF_ROUTES:
                m = rx.fullmatch(route)
                if m:
                    kind, model = "hf", urllib.parse.unquote(m.group(1))
                    break
        if kind is None:
            raise Reply(404, "Not Found: %s" % route, "invalid_request_error")
        if kind in ("info", "health"):
            if self.command not in ("GET", "HEAD"):
                raise Reply(405, "method %s not allowed on %s" % (self.command, route))
            if kind == "health":
                return self._send(200, b"")
            return self._send_json(200, self._info())
        if self.command != "POST":
            raise Reply(405, "method %s not allowed on %s" % (self.command, route),
                        "invalid_request_error")
        self._embed(proto, model, body, listener)

    def _info(self):
        return {
            "model_id": STATE.info_model, "model_sha": None, "model_dtype": "float32",
            "model_type": {"embedding": {"pooling": "mean"}},
            "max_concurrent_requests": 512, "max_input_length": 512,
            "max_batch_tokens": 16384, "max_batch_requests": None,
            "max_client_batch_size": STATE.max_batch, "auto_truncate": False,
            "tokenization_workers": 1, "version": "fidx-standin",
        }

    def _embed(self, proto, model, body, listener):
        fault = STATE.take_fault() if listener == "main" else None
        name, arg = fault if fault else (None, None)
        self._entry["fault"] = name
        if name in ("loading", "ratelimit", "error500", "error400", "toolarge",
                    "hang", "badjson", "html", "redirect", "endless"):
            return self._fault_reply(proto, model, body, name, arg)
        try:
            status, obj = 200, self._compute(proto, model, body, name)
            headers = {}
        except Reply as r:
            status, obj, headers = r.status, error_body(proto, r.status, r.message, r.etype, r.code), r.headers
        data = json.dumps(obj, allow_nan=True).encode()
        if name == "slowbody":
            return self._slowbody(status, data, headers, arg)
        if name == "truncated":
            return self._truncated(status, data, headers)
        self._send(status, data, headers=headers)

    def _fault_reply(self, proto, model, body, name, arg):
        model = model or _soft_model(body) or STATE.info_model
        if name == "loading":
            obj = {"error": "Model %s is currently loading" % model, "estimated_time": arg}
            return self._send_json(503, obj)
        if name == "ratelimit":
            headers = {"Retry-After": arg} if arg is not None else {}
            msg = {"openai": "Rate limit reached for requests",
                   "tei": "Model is overloaded"}.get(proto, "Rate limit reached. You reached free usage limit.")
            return self._send_json(429, error_body(proto, 429, msg, "Overloaded" if proto == "tei"
                                                   else "requests", "rate_limit_exceeded"), headers)
        if name == "error500":
            return self._send_json(500, error_body(proto, 500, "Internal Server Error (injected)",
                                                   "Backend" if proto == "tei" else "server_error"))
        if name == "error400":
            return self._send_json(400, error_body(proto, 400, "Bad Request (injected)",
                                                   "Validation" if proto == "tei" else "invalid_request_error"))
        if name == "toolarge":
            n = _soft_count(body)
            msg = "batch size %d > maximum allowed batch size %d" % (n, STATE.max_batch)
            return self._send_json(413, error_body(proto, 413, msg, "Validation"))
        if name == "html":
            page = (b"<!DOCTYPE html>\n<html><head><title>Sign in to the network</title></head>\n"
                    b"<body><h1>Welcome</h1><p>Please sign in to continue.</p></body></html>\n")
            return self._send(200, page, "text/html; charset=utf-8")
        if name == "badjson":
            return self._send(200, b'[[0.125, -0.5, 0.25, oops')
        if name == "redirect":
            target = "http://127.0.0.1:%d%s" % (arg, self.path)
            return self._send_json(302, {"error": "moved to %s" % target}, {"Location": target})
        if name == "hang":
            self.close_connection = True
            while not self._wait(0.2):
                if self._client_gone():
                    return
            return
        if name == "endless":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            piece = b"0.0, " * 3000
            chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
            self.wfile.write(b"2\r\n[[\r\n")
            while not STATE.stop.is_set():
                self.wfile.write(chunk)
            return
        raise AssertionError(name)

    def _close_after_headers(self, status, data, headers):
        """Headers announcing the whole body, for a delivery that goes wrong."""
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def _slowbody(self, status, data, headers, interval):
        self._close_after_headers(status, data, headers)
        for i in range(len(data)):
            if self._wait(interval):
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()

    def _truncated(self, status, data, headers):
        self._close_after_headers(status, data, headers)
        self.wfile.write(data[:max(1, len(data) // 2)])
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _compute(self, proto, model, body, fault):
        """The normal answer as a JSON-able object (data faults applied), or
        raises Reply."""
        req = _parse_json(body)
        if not isinstance(req, dict):
            raise Reply(400, "the request body must be a JSON object", "invalid_request_error")
        if proto == "openai":
            key = "input"
            model = req.get("model")
            if model is None:
                raise Reply(400, "you must provide a model parameter", "invalid_request_error")
            if not isinstance(model, str):
                raise Reply(400, "'model' must be a string", "invalid_request_error")
            if model not in STATE.models:
                raise Reply(404, "The model `%s` does not exist or you do not have access to it." % model,
                            "invalid_request_error", "model_not_found")
            fmt = req.get("encoding_format", "float")
            if fmt is None:
                fmt = "float"
            if fmt not in ("float", "base64"):
                raise Reply(400, "encoding_format must be \"float\" or \"base64\"", "invalid_request_error")
            dims = req.get("dimensions")
            if dims is not None and (isinstance(dims, bool) or dims != STATE.dim):
                raise Reply(400, "dimensions must be %d for this model" % STATE.dim, "invalid_request_error")
        else:
            key = "inputs"
            if proto == "hf" and model not in STATE.models:
                raise Reply(404, "Model %s does not exist" % model)
        if key not in req:
            raise Reply(400, "missing field `%s`" % key, "invalid_request_error")
        inputs = req[key]
        single = isinstance(inputs, str)
        texts = [inputs] if single else inputs
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise Reply(400, "`%s` must be a string or a list of strings" % key, "invalid_request_error")
        if not texts:
            raise Reply(400, "`%s` cannot be empty" % key, "Empty" if proto == "tei" else "invalid_request_error")
        limit = OPENAI_MAX_INPUTS if proto == "openai" else STATE.max_batch
        if len(texts) > limit:
            if proto == "openai":
                raise Reply(400, "'$.%s' must have at most %d items" % (key, limit), "invalid_request_error")
            raise Reply(413, "batch size %d > maximum allowed batch size %d" % (len(texts), limit))
        vectors, tokens = [], 0
        for i, t in enumerate(texts):
            try:
                raw = t.encode("utf-8")
            except UnicodeEncodeError:
                raise Reply(400, "input %d is not valid Unicode (lone surrogate)" % i,
                            "invalid_request_error") from None
            v = _memo_embed(raw, STATE.dim)
            if v is None:
                raise Reply(422, "input %d has no words to embed (it is empty or only punctuation)" % i,
                            "Validation" if proto == "tei" else "invalid_request_error")
            vectors.append(v)
            tokens += len(hash_words(raw))
        if fault == "wrongdim":
            vectors = [v[:-1] for v in vectors]
        if fault == "nonfinite":
            vectors[0] = [math.nan] + list(vectors[0][1:])
        if fault == "wrongcount":
            vectors = vectors[:-1]
        if proto == "tei":
            return vectors
        if proto == "hf":
            if fault == "tokenlevel":  # 3 "tokens" whose mean is the vector
                return [[v, v, v] for v in vectors]
            if single:
                return vectors[0] if vectors else []
            return vectors
        data = []
        for i, v in enumerate(vectors):
            emb = (base64.b64encode(struct.pack("<%df" % len(v), *v)).decode("ascii")
                   if fmt == "base64" else v)
            data.append({"object": "embedding", "index": i, "embedding": emb})
        rng = random.Random("%s:%s" % (STATE.seed, hashlib.sha256(body).hexdigest()))
        order = list(range(len(data)))
        rng.shuffle(order)
        if len(order) > 1 and order == sorted(order):
            order = order[1:] + order[:1]
        return {"object": "list", "data": [data[i] for i in order], "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def _parse_json(body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Reply(400, "the request body is not valid UTF-8", "invalid_request_error") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise Reply(400, "the request body is not valid JSON: %s" % str(e)[:200],
                    "invalid_request_error") from None


def _soft_parse(body):
    try:
        return json.loads(body.decode("utf-8"))
    except Exception:
        return None


def _soft_count(body):
    req = _soft_parse(body)
    if isinstance(req, dict):
        x = req.get("inputs", req.get("input"))
        if isinstance(x, list):
            return len(x)
        if isinstance(x, str):
            return 1
    return STATE.max_batch + 1


def _soft_model(body):
    req = _soft_parse(body)
    if isinstance(req, dict) and isinstance(req.get("model"), str):
        return req["model"]
    return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, listener):
        self.listener = listener
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ClientGone)):
            return
        traceback.print_exc(file=sys.stderr)


STATE = None


def main(argv=None):
    global STATE
    p = argparse.ArgumentParser(description="Stand-in HTTP embedding server for fidx's tests "
                                "(HF feature-extraction, TEI, OpenAI), with fault injection.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--dim", type=int, default=384, help="embedding dimension (default 384)")
    p.add_argument("--token", default=os.environ.get("STANDIN_TOKEN"),
                   help="require Authorization: Bearer TOKEN (default: $STANDIN_TOKEN, which "
                        "keeps it off the command line)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every response")
    p.add_argument("--faults", default="", help="fault spec, name[:count][@arg],...")
    p.add_argument("--log", help="append one JSON line per request to this file")
    p.add_argument("--redirect-port", type=int,
                   help="also listen on this port: the target of the redirect fault; it answers "
                        "normally, without auth, and records whether Authorization arrived")
    p.add_argument("--max-batch", type=int, default=32,
                   help="HF/TEI max inputs per request (default 32); OpenAI: 2048")
    p.add_argument("--model", action="append", help="also serve this model id (repeatable)")
    p.add_argument("--info-model", default="fidx/hash", help="the model_id of GET /info")
    p.add_argument("--gone-models", action="store_true",
                   help="POST /models/<id> answers 410 like the retired api-inference host")
    p.add_argument("--seed", type=int, default=0, help="seed of the OpenAI data shuffle")
    p.add_argument("--tls-cert", help="serve HTTPS on the main port with this certificate (PEM)")
    p.add_argument("--tls-key", help="the certificate's private key (PEM)")
    opts = p.parse_args(argv)
    if opts.dim < 1 or opts.dim > 1 << 20:
        p.error("--dim must be 1..1048576")
    if not 0 <= opts.port <= 65535 or (opts.redirect_port is not None and not 0 <= opts.redirect_port <= 65535):
        p.error("ports must be 0..65535")
    if opts.max_batch < 1:
        p.error("--max-batch must be at least 1")
    if not (math.isfinite(opts.latency_ms) and opts.latency_ms >= 0):
        p.error("--latency-ms must be >= 0")
    try:
        STATE = State(opts)
    except SpecError as e:
        p.error("--faults: %s" % e)
    except OSError as e:
        p.error("--log: %s" % e.strerror)

    servers = []
    try:
        servers.append(Server(("127.0.0.1", opts.port), "main"))
        if opts.redirect_port is not None:
            servers.append(Server(("127.0.0.1", opts.redirect_port), "redirect"))
            STATE.redirect_port = servers[1].server_address[1]
        if opts.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
            servers[0].socket = ctx.wrap_socket(servers[0].socket, server_side=True)
    except OSError as e:
        print("standin: cannot listen: %s" % e.strerror, file=sys.stderr)
        return 1

    def on_signal(signum, frame):
        STATE.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        print("READY %s" % " ".join(str(s.server_address[1]) for s in servers), flush=True)
    except OSError:
        pass
    while not STATE.stop.wait(0.5):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()
    if STATE.logfile:
        STATE.logfile.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
