#!/usr/bin/env python3
"""A stand-in for the Hugging Face Hub, for testing fidx's hf:// reads and
fidx export --hub (docs/hub.md; the protocol as the Hub and huggingface_hub
speak it, from ../../shared/reference/hub-protocol.md's sources).

Python 3 standard library only. Two listeners on 127.0.0.1: the Hub (main)
and a "CDN" on another port, i.e. another origin, which serves LFS files and
takes LFS uploads, and refuses (403) any request carrying Authorization.

Reads, dataset repositories only:
  GET  /api/datasets/O/N[/revision/REV]      info: id, sha, private, gated,
                                             siblings (+ size, blobId, lfs
                                             with ?blobs=true), cardData {}
  GET  /api/datasets/O/N/tree/REV[/PATH]     ?recursive=true|1&expand=..:
                                             files and folders, paths from the
                                             root, --page-size per page, then
                                             Link: <absolute URL&cursor=>; rel="next"
  POST /api/datasets/O/N/paths-info/REV      form or JSON paths; missing omitted
  GET  /api/datasets/O/N/refs                branches, converts, tags
  HEAD|GET /datasets/O/N/resolve/REV/PATH    public file in git: 307 to a
                                             relative /api/resolve-cache/...;
                                             private or gated: 200 at once;
                                             LFS: 302 to the CDN (absolute),
                                             X-Linked-Etag, X-Linked-Size,
                                             X-Repo-Commit on the 302
  HEAD|GET /api/resolve-cache/datasets/O/N/COMMIT/PATH
  A file answer has ETag (git blob id; the CDN's is its own), X-Repo-Commit,
  Content-Length, Accept-Ranges; Range gives 206 + Content-Range, 416 past
  the end. REV is percent-encoded or not (refs/convert/x, refs/pr/N), HEAD
  is the default branch, a 40-hex commit works as itself.
Writes:
  POST /api/repos/create                     200 {url}, 409 when it exists
  POST /api/datasets/O/N/preupload/REV       uploadMode lfs by .gitattributes
                                             pattern, size > 10 MB, or binary
                                             > 1 MB; oid of a path already there
  POST /datasets/O/N.git/info/lfs/objects/batch   basic (multipart when the
                                             object is over --multipart-chunk)
  PUT  (CDN) /upload/SHA256?...              checks size and SHA-256
  POST (CDN) /complete/SHA256?...            multipart completion
  POST /api/datasets/O/N/commit/REV          NDJSON: header, file, lfsFile,
                                             deletedFile; parentCommit checked
  POST /api/validate-yaml                    {errors: [], warnings: []}
Errors as the Hub gives them: X-Error-Code (RepoNotFound, RevisionNotFound,
EntryNotFound, GatedRepo), X-Error-Message and {"error": ...}; anonymous and
missing/private: 401; token without access to a private repository: 404;
gated without access: 401 anonymous, 403 with a token; a token not known:
401 "Invalid credentials in Authorization header" even on public repos.
Every answer of the main listener has RateLimit and RateLimit-Policy.

Tokens (never on the command line, in a log or in /_stats): STANDIN_TOKEN
owns every repository (reads everything, writes); STANDIN_OTHER_TOKEN is a
valid token of another account (public repositories only, no gated access).

Test control (not counted, no auth):
  GET  /_stats   requests per listener and per class, bytes of files served,
                 Authorization seen by the CDN, and a log of requests
  POST /_control JSON: {"reset_stats": true}, {"faults": [[name, count,
                 class, arg], ...]} (replaces the queue), {"append_faults":
                 [...]}, {"commit": {"repo", "branch", "files": {path:
                 base64 or null}}}, {"repo": {"id", "private", "gated"}},
                 {"lfs_patterns": [...]}, {"page_size": n}, {"multipart_chunk": n}
Faults apply to the next `count` requests of their class (count null: all):
classes info, tree, api (any /api/ read), resolve (the /resolve/ answer),
file (any answer with a file's bytes), cdn, create, preupload, batch,
upload, commit. Names: e500, e503 (errors), ratelimit (429 with RateLimit
r=0;t=arg, default 0), drop (close without answering), cut (half the bytes,
then close), corrupt (one byte changed), long (64 bytes more than the file,
announced), ignorerange (200 with the whole file to a Range request),
badjson, evilpath (arg: a path added to a tree page), hugesize (a tree entry
of 2^60 bytes), nextother (a next page on the CDN's origin).

Usage: standin.py [--port 0] [--cdn-port 0] [--page-size 1000]
                  [--repo O/N[@REF]=DIR[,private][,gated]]... [--lfs PATTERN]...
                  [--multipart-chunk BYTES] [--log FILE]
Prints "READY <port> <cdn port>" once listening; serves until SIGTERM.
"""

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_LFS = ["*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib",
               "*.lz4", "*.mds", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot",
               "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors",
               "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst"]
GITATTRIBUTES = "".join("%s filter=lfs diff=lfs merge=lfs -text\n" % p for p in DEFAULT_LFS).encode()
SPECIAL_REF = re.compile(r"^refs/(?:convert/[\w.-]+|pr/\d+)")
HEX40 = re.compile(r"^[0-9a-f]{40}$")
MAX_BODY = 1 << 31


def git_oid(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha, size):
    return b"version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (sha.encode(), size)


class Reply(Exception):
    def __init__(self, status, message, code=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


class Repo:
    def __init__(self, rid, private=False, gated=False):
        self.id, self.private, self.gated = rid, private, gated
        self.branches = {}   # name -> commit
        self.commits = {}    # sha -> {path: (data key, lfs sha256 or None)}
        self.refs_other = {}  # refs/convert/x, refs/pr/N -> commit


class State:
    def __init__(self, opts):
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.token = os.environ.get("STANDIN_TOKEN") or None
        self.other = os.environ.get("STANDIN_OTHER_TOKEN") or None
        self.page_size = opts.page_size
        self.lfs_patterns = DEFAULT_LFS + (opts.lfs or [])
        self.multipart_chunk = opts.multipart_chunk
        self.blobs = {}      # git oid -> bytes (files in git)
        self.lfs = {}        # sha256 -> bytes
        self.repos = {}
        self.counter = 0
        self.port = self.cdn_port = 0
        self.faults = []
        self.logfile = open(opts.log, "a", encoding="utf-8", buffering=1) if opts.log else None
        self.reset_stats()

    def reset_stats(self):
        with self.lock:
            self.requests = {"main": 0, "cdn": 0}
            self.by_class = {}
            self.bytes_served = 0
            self.cdn_auth = 0
            self.log = []

    # -- content --------------------------------------------------------

    def is_lfs_path(self, path, files=None):
        pats = list(self.lfs_patterns)
        ga = (files or {}).get(".gitattributes")
        if ga is not None:
            for line in self.data(ga).decode("utf-8", "replace").splitlines():
                parts = line.split()
                if len(parts) > 1 and "filter=lfs" in parts[1:]:
                    pats.append(parts[0])
        name = path.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(path, p) for p in pats)

    def store(self, data, lfs):
        if lfs:
            sha = hashlib.sha256(data).hexdigest()
            self.lfs[sha] = data
            return (sha, sha)
        oid = git_oid(data)
        self.blobs[oid] = data
        return (oid, None)

    def data(self, entry):
        key, sha = entry
        return self.lfs[sha] if sha else self.blobs[key]

    def new_commit(self, repo, branch, files, parent):
        with self.lock:
            self.counter += 1
            n = self.counter
        sha = hashlib.sha1(json.dumps([repo.id, branch, parent, sorted((p, e[0]) for p, e in files.items()), n])
                           .encode()).hexdigest()
        repo.commits[sha] = files
        repo.branches[branch] = sha
        return sha

    def seed(self, spec):
        rid, _, rest = spec.partition("=")
        rid, _, ref = rid.partition("@")
        folder, *flags = rest.split(",")
        repo = self.repos.get(rid) or Repo(rid, "private" in flags, "gated" in flags)
        files = {}
        if os.path.isfile(os.path.join(folder, ".gitattributes")):
            with open(os.path.join(folder, ".gitattributes"), "rb") as f:
                files[".gitattributes"] = self.store(f.read(), False)
        else:
            files[".gitattributes"] = self.store(GITATTRIBUTES, False)
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, folder).replace(os.sep, "/")
                if rel == ".gitattributes":
                    continue
                with open(full, "rb") as f:
                    data = f.read()
                files[rel] = self.store(data, self.is_lfs_path(rel, files))
        if ref and SPECIAL_REF.match(ref):
            keep = repo.branches.get("main")
            repo.refs_other[ref] = self.new_commit(repo, ref, files, None)
            repo.branches.pop(ref)
            if keep:
                repo.branches["main"] = keep
        else:
            self.new_commit(repo, ref or "main", files, None)
        self.repos[rid] = repo

    def entry_info(self, path, entry):
        key, sha = entry
        data = self.data(entry)
        if sha:
            ptr = lfs_pointer(sha, len(data))
            return {"type": "file", "oid": git_oid(ptr), "size": len(data), "path": path,
                    "lfs": {"oid": sha, "size": len(data), "pointerSize": len(ptr)}}
        return {"type": "file", "oid": key, "size": len(data), "path": path}

    # -- faults and stats -----------------------------------------------

    def take_fault(self, klass):
        with self.lock:
            for f in self.faults:
                name, count, target = f[0], f[1], f[2]
                if target == klass or (target == "api" and klass in ("info", "tree", "api")) or \
                        (target == "file" and klass in ("file", "cdnfile")) or (target == "cdn" and klass == "cdnfile"):
                    if count is not None:
                        f[1] -= 1
                        if f[1] <= 0:
                            self.faults.remove(f)
                    return name, (f[3] if len(f) > 3 else None)
        return None, None

    def note(self, listener, method, path, klass, status, auth, rng):
        path = self.redact(path)
        e = {"listener": listener, "method": method, "path": path, "class": klass, "status": status,
             "auth": auth, "range": rng}
        with self.lock:
            self.requests[listener] += 1
            self.by_class[klass] = self.by_class.get(klass, 0) + 1
            if listener == "cdn" and auth:
                self.cdn_auth += 1
            if len(self.log) < 20000:
                self.log.append(e)
        if self.logfile:
            try:
                self.logfile.write(json.dumps(e) + "\n")
            except (OSError, ValueError):
                pass

    def redact(self, s):
        for t in (self.token, self.other):
            if t and t in s:
                s = s.replace(t, "<redacted>")
        return s

    def stats(self):
        with self.lock:
            return {"requests": self.requests["main"], "cdn": {"requests": self.requests["cdn"],
                    "auth": self.cdn_auth}, "by_class": dict(self.by_class), "bytes": self.bytes_served,
                    "log": list(self.log)}


STATE = None


def split_rev_path(segs):
    """Revision (decoded) and path from the segments after /tree/ or /resolve/."""
    raw = "/".join(segs)
    dec = urllib.parse.unquote(segs[0]) if segs else ""
    m = SPECIAL_REF.match(raw)
    if m and not SPECIAL_REF.match(dec):
        return m.group(), raw[m.end():].lstrip("/")
    return dec, "/".join(segs[1:])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fidx-hub-standin/1"
    sys_version = ""
    timeout = 60

    def log_message(self, fmt, *args):
        pass

    # -- plumbing -------------------------------------------------------

    def listener(self):
        return self.server.listener

    def auth(self):
        h = self.headers.get("Authorization")
        if not h:
            return None
        return h[7:].strip() if h.startswith("Bearer ") else ""

    def send(self, status, body=b"", headers=None, ctype="application/json"):
        self._status = status
        self.send_response(status)
        if self.listener() == "main" and "RateLimit" not in (headers or {}):
            self.send_header("RateLimit", '"api";r=2998;t=172')
            self.send_header("RateLimit-Policy", '"fixed window";"api";q=3000;w=300')
        if ctype:
            self.send_header("Content-Type", ctype)
        hdrs = dict(headers or {})
        if "Content-Length" not in hdrs:
            self.send_header("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=None):
        self.send(status, json.dumps(obj).encode(), headers)

    def error(self, e):
        h = dict(e.headers)
        if e.code:
            h["X-Error-Code"] = e.code
        h["X-Error-Message"] = e.message
        self.send_json(e.status, {"error": e.message}, h)

    def body(self):
        self._body_read = True
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise Reply(413, "payload too large")
        data = self.rfile.read(n) if n else b""
        if len(data) < n:
            self.close_connection = True
            raise Reply(400, "short body")
        return data

    def handle_one(self):
        self._status = None
        self._klass = "other"
        self._body_read = False
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_stats" and self.command == "GET":
            return self.send_json(200, STATE.stats())
        if url.path == "/_control" and self.command == "POST":
            return self.control(json.loads(self.body() or b"{}"))
        tok = self.auth()
        try:
            if self.listener() == "cdn":
                self.cdn(url, tok)
            else:
                self.main(url, tok)
        except Reply as e:
            if e.status:
                if not self._body_read:
                    self.body()  # what was sent, before answering: the connection stays usable
                self.error(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            STATE.note(self.listener(), self.command, self.path, self._klass, self._status, tok is not None,
                       self.headers.get("Range"))

    do_GET = do_HEAD = do_POST = do_PUT = handle_one

    def control(self, c):
        with STATE.lock:
            if "faults" in c:
                STATE.faults = [list(f) for f in c["faults"]]
            if "append_faults" in c:
                STATE.faults += [list(f) for f in c["append_faults"]]
            if "lfs_patterns" in c:
                STATE.lfs_patterns = DEFAULT_LFS + list(c["lfs_patterns"])
            if "page_size" in c:
                STATE.page_size = int(c["page_size"])
            if "multipart_chunk" in c:
                STATE.multipart_chunk = int(c["multipart_chunk"])
        if c.get("reset_stats"):
            STATE.reset_stats()
        if "repo" in c:
            r = STATE.repos[c["repo"]["id"]]
            r.private = bool(c["repo"].get("private", r.private))
            r.gated = bool(c["repo"].get("gated", r.gated))
        out = {}
        if "commit" in c:
            cm = c["commit"]
            r = STATE.repos[cm["repo"]]
            branch = cm.get("branch", "main")
            files = dict(r.commits[r.branches[branch]])
            for p, b64 in cm["files"].items():
                if b64 is None:
                    files.pop(p, None)
                else:
                    files[p] = STATE.store(base64.b64decode(b64), STATE.is_lfs_path(p, files))
            out["commit"] = STATE.new_commit(r, branch, files, r.branches[branch])
            if cm.get("ref"):
                r.refs_other[cm["ref"]] = out["commit"]
        self.send_json(200, out)

    # -- repositories and revisions ---------------------------------------

    def repo(self, rid, tok, write=False):
        if tok is not None and tok not in (STATE.token, STATE.other):
            raise Reply(401, "Invalid credentials in Authorization header")
        r = STATE.repos.get(rid)
        owner = tok is not None and tok == STATE.token
        if r is None or (r.private and not owner):
            if tok is None:
                raise Reply(401, "Invalid username or password.", "RepoNotFound")
            raise Reply(404, "Repository not found", "RepoNotFound")
        if write and not owner:
            raise Reply(403, "You don't have the rights to write to %s" % rid)
        return r

    def commit_of(self, r, rev):
        if rev in (None, "", "HEAD"):
            rev = "main"
        if rev in r.branches:
            return r.branches[rev]
        if rev in r.refs_other:
            return r.refs_other[rev]
        if HEX40.match(rev) and rev in r.commits:
            return rev
        raise Reply(404, "Invalid rev id: %s" % rev, "RevisionNotFound")

    def gate(self, r, tok):
        if r.gated and tok != STATE.token:
            if tok is None:
                raise Reply(401, "Access to dataset %s is restricted. You must be authenticated to access it."
                            % r.id, "GatedRepo")
            raise Reply(403, "Access to dataset %s is restricted and you are not in the authorized list. "
                        "Visit http://127.0.0.1:%d/datasets/%s to ask for access." % (r.id, STATE.port, r.id),
                        "GatedRepo")

    def fault(self, klass):
        self._klass = klass
        name, arg = STATE.take_fault(klass)
        if name in ("e500", "e503"):
            raise Reply(int(name[1:]), "Internal Error - We're working hard to fix this as soon as possible!")
        if name == "ratelimit":
            t = int(arg or 0)
            raise Reply(429, "You have been rate-limited; you can retry this action in about %d seconds." % t,
                        headers={"RateLimit": '"api";r=0;t=%d' % t})
        if name == "drop":
            self.close_connection = True
            raise Reply(0, "")
        return name, arg

    # -- the Hub --------------------------------------------------------

    def main(self, url, tok):
        segs = [s for s in url.path.split("/")][1:]
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if self.command == "POST" and url.path == "/api/repos/create":
            return self.create(tok)
        if self.command == "POST" and url.path == "/api/validate-yaml":
            self.body()
            return self.send_json(200, {"errors": [], "warnings": []})
        if len(segs) >= 4 and segs[0] == "api" and segs[1] == "datasets":
            rid = segs[2] + "/" + segs[3]
            rest = segs[4:]
            if not rest or rest[0] == "revision":
                name, _ = self.fault("info")
                if self.command != "GET":
                    raise Reply(405, "method not allowed")
                return self.info(rid, tok, urllib.parse.unquote("/".join(rest[1:])) if rest else None, q, name)
            if rest[0] == "tree":
                name, arg = self.fault("tree")
                rev, path = split_rev_path(rest[1:])
                return self.tree(rid, tok, rev, urllib.parse.unquote(path), q, name, arg)
            if rest[0] == "paths-info" and self.command == "POST":
                self.fault("api")
                return self.paths_info(rid, tok, urllib.parse.unquote("/".join(rest[1:])))
            if rest[0] == "refs":
                self.fault("api")
                r = self.repo(rid, tok)
                return self.send_json(200, {
                    "branches": [{"name": b, "ref": "refs/heads/" + b, "targetCommit": c} for b, c in r.branches.items()],
                    "converts": [{"name": k.split("/")[-1], "ref": k, "targetCommit": c}
                                 for k, c in r.refs_other.items() if k.startswith("refs/convert/")],
                    "tags": []})
            if rest[0] == "preupload" and self.command == "POST":
                self.fault("preupload")
                return self.preupload(rid, tok, urllib.parse.unquote("/".join(rest[1:])))
            if rest[0] == "commit" and self.command == "POST":
                self.fault("commit")
                return self.commit(rid, tok, urllib.parse.unquote("/".join(rest[1:])))
        if len(segs) >= 5 and segs[0] == "datasets" and segs[3] == "resolve" and self.command in ("GET", "HEAD"):
            rev, path = split_rev_path(segs[4:])
            return self.resolve(segs[1] + "/" + segs[2], tok, rev, urllib.parse.unquote(path))
        if len(segs) >= 7 and segs[:3] == ["api", "resolve-cache", "datasets"] and self.command in ("GET", "HEAD"):
            rid = segs[3] + "/" + segs[4]
            r = self.repo(rid, tok)
            self.gate(r, tok)
            path = urllib.parse.unquote("/".join(segs[6:]))
            files = r.commits.get(segs[5])
            if files is None or path not in files:
                raise Reply(404, "Entry not found", "EntryNotFound")
            return self.serve_file(files[path], segs[5], "file")
        if len(segs) == 7 and segs[0] == "datasets" and segs[2].endswith(".git") and segs[3:] == \
                ["info", "lfs", "objects", "batch"] and self.command == "POST":
            self.fault("batch")
            return self.batch(segs[1] + "/" + segs[2][:-4], tok)
        raise Reply(404, "Not Found")

    def info(self, rid, tok, rev, q, fault):
        r = self.repo(rid, tok)
        sha = self.commit_of(r, rev)
        files = r.commits[sha]
        blobs = q.get("blobs", ["false"])[0] in ("true", "1", "True")
        sib = []
        for p in sorted(files):
            s = {"rfilename": p}
            if blobs:
                e = STATE.entry_info(p, files[p])
                s.update({"size": e["size"], "blobId": e["oid"]})
                if "lfs" in e:
                    s["lfs"] = {"size": e["size"], "sha256": e["lfs"]["oid"], "pointerSize": e["lfs"]["pointerSize"]}
            sib.append(s)
        obj = {"_id": hashlib.md5(rid.encode()).hexdigest()[:24], "id": rid, "author": rid.split("/")[0],
               "sha": sha, "private": r.private, "gated": "manual" if r.gated else False, "disabled": False,
               "lastModified": "2026-01-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z",
               "tags": [], "downloads": 0, "likes": 0, "siblings": sib, "cardData": {}}
        if fault == "badjson":
            return self.send(200, b"{\"id\": ")
        self.send_json(200, obj)

    def tree_entries(self, files, path, recursive):
        dirs, out = set(), []
        for p in sorted(files):
            if path and not p.startswith(path + "/"):
                continue
            rel = p[len(path) + 1:] if path else p
            parts = rel.split("/")
            for i in range(1, len(parts)):
                d = "/".join(([path] if path else []) + parts[:i])
                if (recursive or i == 1) and d not in dirs:
                    dirs.add(d)
                    out.append({"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0,
                                "path": d})
            if recursive or len(parts) == 1:
                out.append(STATE.entry_info(p, files[p]))
        # "tree first", as the Hub: folders, then files
        return [e for e in out if e["type"] == "directory"] + [e for e in out if e["type"] == "file"]

    def tree(self, rid, tok, rev, path, q, fault, arg):
        r = self.repo(rid, tok)
        sha = self.commit_of(r, rev)
        files = r.commits[sha]
        path = path.strip("/")
        if path and path not in files and not any(p.startswith(path + "/") for p in files):
            raise Reply(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
        recursive = q.get("recursive", ["false"])[0] in ("true", "1", "True")
        entries = self.tree_entries(files, path, recursive)
        start = 0
        if "cursor" in q:
            start = json.loads(base64.urlsafe_b64decode(q["cursor"][0]))["start"]
        size = int(q.get("limit", [STATE.page_size])[0])
        page = entries[start:start + size]
        if fault == "badjson":
            return self.send(200, b"[{\"type\": \"file\", ")
        if fault == "evilpath":
            page = page + [{"type": "file", "oid": "0" * 40, "size": 1, "path": arg}]
        if fault == "hugesize" and page:
            page = [dict(page[-1], size=1 << 60)] + page[:-1]
        headers = {}
        if start + size < len(entries):
            cursor = base64.urlsafe_b64encode(json.dumps({"start": start + size}).encode()).decode()
            nq = {k: v[0] for k, v in q.items() if k != "cursor"}
            nq["cursor"] = cursor
            host = "127.0.0.1:%d" % (STATE.cdn_port if fault == "nextother" else STATE.port)
            headers["Link"] = '<http://%s%s?%s>; rel="next"' % (host, url_path(self.path),
                                                                 urllib.parse.urlencode(nq))
        self.send_json(200, page, headers)

    def paths_info(self, rid, tok, rev):
        r = self.repo(rid, tok)
        files = r.commits[self.commit_of(r, rev)]
        raw = self.body()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            paths = json.loads(raw).get("paths", [])
        else:
            paths = urllib.parse.parse_qs(raw.decode()).get("paths", [])
        out = []
        for p in paths:
            if p in files:
                out.append(STATE.entry_info(p, files[p]))
            elif any(f.startswith(p + "/") for f in files):
                out.append({"type": "directory", "oid": hashlib.sha1(p.encode()).hexdigest(), "size": 0, "path": p})
        self.send_json(200, out)

    def resolve(self, rid, tok, rev, path):
        name, _ = self.fault("resolve")
        r = self.repo(rid, tok)
        sha = self.commit_of(r, rev)
        files = r.commits[sha]
        if path not in files:
            raise Reply(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
        self.gate(r, tok)
        key, lfs = files[path]
        if lfs:
            data = STATE.data(files[path])
            loc = "http://127.0.0.1:%d/lfs/%s?Expires=%d&Signature=s1gn3d&Key-Pair-Id=K" % (
                STATE.cdn_port, lfs, int(time.time()) + 3600)
            body = b"Found. Redirecting to " + loc.encode()
            return self.send(302, body, {"Location": loc, "X-Repo-Commit": sha, "X-Linked-Etag": '"%s"' % lfs,
                                         "X-Linked-Size": str(len(data)), "ETag": '"%s"' % git_oid(lfs_pointer(lfs, len(data))),
                                         "Vary": "Origin, Accept"}, "text/plain; charset=utf-8")
        if r.private or r.gated:
            return self.serve_file(files[path], sha, "file")
        q = urllib.parse.quote("/%s/resolve/%s/%s" % (rid, urllib.parse.quote(rev or "main", safe=""), path), safe="")
        loc = "/api/resolve-cache/datasets/%s/%s/%s?%s=&etag=%%22%s%%22" % (rid, sha, urllib.parse.quote(path), q, key)
        self.send(307, b"Temporary Redirect. Redirecting to " + loc.encode(),
                  {"Location": loc, "X-Repo-Commit": sha, "Vary": "Origin, Accept"}, "text/plain; charset=utf-8")

    def serve_file(self, entry, sha, klass, cdn=False):
        name, _ = self.fault(klass)
        data = STATE.data(entry)
        etag = hashlib.sha256(b"cdn" + data).hexdigest() if cdn else entry[0]
        headers = {"ETag": '"%s"' % etag, "Accept-Ranges": "bytes"}
        if not cdn:
            headers["X-Repo-Commit"] = sha
        status, start = 200, 0
        rng = self.headers.get("Range")
        if rng and name != "ignorerange":
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if not m:
                raise Reply(416, "bad range")
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else len(data) - 1
            if start >= len(data):
                return self.send(416, b"", {"Content-Range": "bytes */%d" % len(data)}, None)
            end = min(end, len(data) - 1)
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(data))
            status = 206
            data = data[start:end + 1]
        if name == "corrupt" and data:
            data = bytes([data[0] ^ 1]) + data[1:]
        if name == "long":
            data = data + b"#" * 64
        if name == "cut" and self.command == "GET":
            headers["Content-Length"] = str(len(data))
            self.send(status, b"", headers, "application/octet-stream")
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            with STATE.lock:
                STATE.bytes_served += len(data) // 2
            self.close_connection = True
            return
        self.send(status, data, headers, "application/octet-stream")
        if self.command == "GET":
            with STATE.lock:
                STATE.bytes_served += len(data)

    # -- writes ---------------------------------------------------------

    def create(self, tok):
        self._klass = "create"
        STATE.take_fault("create")
        req = json.loads(self.body() or b"{}")
        if tok is None:
            raise Reply(401, "Invalid username or password.")
        if tok not in (STATE.token, STATE.other):
            raise Reply(401, "Invalid credentials in Authorization header")
        if tok != STATE.token:
            raise Reply(403, "You don't have the rights to create a dataset under this namespace")
        if req.get("type") != "dataset":
            raise Reply(400, "this stand-in makes datasets only")
        rid = "%s/%s" % (req.get("organization") or "user", req.get("name"))
        url = "http://127.0.0.1:%d/datasets/%s" % (STATE.port, rid)
        if rid in STATE.repos:
            return self.send_json(409, {"error": "You already created this dataset repo", "url": url})
        r = Repo(rid, bool(req.get("private")) or req.get("visibility") == "private")
        STATE.new_commit(r, "main", {".gitattributes": STATE.store(GITATTRIBUTES, False)}, None)
        STATE.repos[rid] = r
        self.send_json(200, {"url": url, "name": rid, "id": rid})

    def preupload(self, rid, tok, rev):
        r = self.repo(rid, tok, write=True)
        sha = self.commit_of(r, rev)
        files = r.commits[sha]
        req = json.loads(self.body())
        out = []
        for f in req["files"]:
            sample = base64.b64decode(f.get("sample", ""))
            binary = b"\0" in sample
            lfs = STATE.is_lfs_path(f["path"], files) or f["size"] > 10_000_000 or (binary and f["size"] > 1_000_000)
            o = {"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
            if f["path"] in files:
                # huggingface_hub compares it with the SHA-256 of an LFS file,
                # the git blob id of another
                key, sha = files[f["path"]]
                o["oid"] = sha or key
            out.append(o)
        self.send_json(200, {"files": out, "commitOid": sha})

    def batch(self, rid, tok):
        self.repo(rid, tok, write=True)
        req = json.loads(self.body())
        objs = []
        for o in req["objects"]:
            sha, size = o["oid"], o["size"]
            item = {"oid": sha, "size": size, "authenticated": True}
            if sha not in STATE.lfs:
                sig = "X-Amz-Signature=%s&X-Amz-Expires=900" % hashlib.sha1(sha.encode()).hexdigest()
                base = "http://127.0.0.1:%d" % STATE.cdn_port
                chunk = STATE.multipart_chunk
                if chunk and size > chunk:
                    n = (size + chunk - 1) // chunk
                    header = {"chunk_size": str(chunk)}
                    for i in range(n):
                        header["%05d" % (i + 1)] = "%s/part/%s/%d?%s" % (base, sha, i + 1, sig)
                    item["actions"] = {"upload": {"href": "%s/complete/%s?%s" % (base, sha, sig), "header": header}}
                else:
                    item["actions"] = {"upload": {"href": "%s/upload/%s?%s" % (base, sha, sig), "expires_in": 900}}
            objs.append(item)
        self.send(200, json.dumps({"transfer": "basic", "objects": objs}).encode(), None,
                  "application/vnd.git-lfs+json")

    def commit(self, rid, tok, rev):
        r = self.repo(rid, tok, write=True)
        branch = rev or "main"
        if branch not in r.branches:
            raise Reply(404, "Invalid rev id: %s" % branch, "RevisionNotFound")
        head = r.branches[branch]
        files = dict(r.commits[head])
        lines = [ln for ln in self.body().split(b"\n") if ln.strip()]
        summary, n = None, 0
        for ln in lines:
            item = json.loads(ln)
            k, v = item["key"], item["value"]
            if k == "header":
                summary = v.get("summary")
                if v.get("parentCommit") and v["parentCommit"] != head:
                    raise Reply(412, "A commit has happened since. Please refresh and try again.")
            elif k == "file":
                data = base64.b64decode(v["content"]) if v.get("encoding", "base64") == "base64" \
                    else v["content"].encode()
                files[v["path"]] = STATE.store(data, False)
                n += 1
            elif k == "lfsFile":
                if v.get("algo", "sha256") != "sha256" or v["oid"] not in STATE.lfs or \
                        len(STATE.lfs[v["oid"]]) != v["size"]:
                    raise Reply(422, "lfsFile %s: the object %s was never uploaded" % (v["path"], v["oid"]))
                files[v["path"]] = (v["oid"], v["oid"])
                n += 1
            elif k == "deletedFile":
                files.pop(v["path"], None)
                n += 1
            else:
                raise Reply(400, "Unknown key %s" % k)
        if summary is None or n == 0:
            raise Reply(400, "Add a line with the key `lfsFile`, `file` or `deletedFile`")
        sha = STATE.new_commit(r, branch, files, head)
        self.send_json(200, {"success": True, "commitOid": sha,
                             "commitUrl": "http://127.0.0.1:%d/datasets/%s/commit/%s" % (STATE.port, rid, sha),
                             "hookOutput": ""})

    # -- the CDN --------------------------------------------------------

    def cdn(self, url, tok):
        segs = url.path.split("/")[1:]
        self._klass = "cdn"
        if tok is not None or self.headers.get("Authorization"):
            raise Reply(403, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                        "Signature query string parameter or the Authorization header should be specified")
        if self.command in ("GET", "HEAD") and len(segs) == 2 and segs[0] == "lfs" and segs[1] in STATE.lfs:
            if "Signature=" not in url.query:
                raise Reply(403, "not signed")
            return self.serve_file((segs[1], segs[1]), None, "cdnfile", cdn=True)
        if self.command == "PUT" and ((len(segs) == 2 and segs[0] == "upload") or (len(segs) == 3 and segs[0] == "part")):
            self.fault("upload")
            data = self.body()
            if segs[0] == "part":
                with STATE.lock:
                    STATE.parts = getattr(STATE, "parts", {})
                    STATE.parts[(segs[1], int(segs[2]))] = data
                etag = hashlib.md5(data).hexdigest()
                return self.send(200, b"", {"ETag": '"%s"' % etag}, None)
            if hashlib.sha256(data).hexdigest() != segs[1]:
                raise Reply(400, "the content's SHA-256 is not %s" % segs[1])
            STATE.lfs[segs[1]] = data
            return self.send(200, b"", None, None)
        if self.command == "POST" and len(segs) == 2 and segs[0] == "complete":
            req = json.loads(self.body())
            parts = getattr(STATE, "parts", {})
            data = b""
            for p in sorted(req["parts"], key=lambda p: p["partNumber"]):
                chunk = parts.get((segs[1], p["partNumber"]))
                if chunk is None or hashlib.md5(chunk).hexdigest() != p["etag"].strip('"'):
                    raise Reply(400, "part %d missing or not its ETag" % p["partNumber"])
                data += chunk
            if hashlib.sha256(data).hexdigest() != segs[1] or req.get("oid") != segs[1]:
                raise Reply(400, "the parts' SHA-256 is not %s" % segs[1])
            STATE.lfs[segs[1]] = data
            return self.send_json(200, {})
        raise Reply(404, "NoSuchKey")


def url_path(p):
    return urllib.parse.urlsplit(p).path


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, listener):
        self.listener = listener
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def main(argv=None):
    global STATE
    p = argparse.ArgumentParser(description="Stand-in Hugging Face Hub for fidx's tests.")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cdn-port", type=int, default=0)
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--repo", action="append", default=[],
                   help="OWNER/NAME[@REF]=FOLDER[,private][,gated]: a repository whose main branch (or REF: "
                        "another branch, refs/convert/NAME, refs/pr/N) holds the folder's files")
    p.add_argument("--lfs", action="append", help="another pattern of files kept in LFS")
    p.add_argument("--multipart-chunk", type=int, default=0, help="LFS uploads above this size are multipart")
    p.add_argument("--log", help="append one JSON line per request")
    opts = p.parse_args(argv)
    STATE = State(opts)
    for spec in opts.repo:
        STATE.seed(spec)
    servers = [Server(("127.0.0.1", opts.port), "main"), Server(("127.0.0.1", opts.cdn_port), "cdn")]
    STATE.port, STATE.cdn_port = servers[0].server_address[1], servers[1].server_address[1]

    def on_signal(signum, frame):
        STATE.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    print("READY %d %d" % (STATE.port, STATE.cdn_port), flush=True)
    while not STATE.stop.wait(0.5):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
