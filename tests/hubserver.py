"""A tiny Hugging Face Hub on 127.0.0.1 for tests, speaking the protocol huggingface_hub uses.

Routes (as read from huggingface_hub 2.4's ``hf_api.model_info`` and ``file_download``):

- ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}``: model info with ``sha``
  and ``siblings``; with ``?blobs=true`` each sibling has ``size``, ``blobId`` and, for LFS
  files, ``lfs: {sha256, size, pointerSize}``.
- ``HEAD/GET /{repo}/resolve/{rev}/{file}``: small files answer directly (``ETag`` = git blob id,
  ``X-Repo-Commit``, ``Content-Length``); LFS files answer ``302`` with ``Location`` on a second
  port (another origin, as the Hub's CDN is) plus ``X-Linked-Etag``/``X-Linked-Size``.
- ``GET /cdn/{sha256}``: the LFS bytes. Every file body supports ``Range: bytes=N-``.
- Errors: unknown repo 404 (``X-Error-Code: RepoNotFound``), private repo without the token 401,
  a wrong token 401 (``Invalid credentials in Authorization header``), unknown revision 404
  (``RevisionNotFound``), unknown file 404 (``EntryNotFound``).

Test hooks: ``served`` counts body bytes sent per file, ``requests`` logs every request,
``interrupt()`` cuts the next transfer(s) of a file after N bytes, ``throttle_s`` slows bodies.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "hf_test_secret_token"
LFS_SUFFIXES = (".bin", ".pt", ".pth", ".safetensors", ".onnx", ".msgpack", ".h5")
_CHUNK = 1 << 15


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Transfer:
    key: str
    start: int
    sent: int = 0

    def __iter__(self):  # unpacks like a tuple: key, start, sent
        return iter((self.key, self.start, self.sent))


@dataclass
class Repo:
    files: dict[str, bytes]
    private: bool = False
    config: dict | None = None
    commit: str = ""
    branches: dict[str, str] = field(default_factory=dict)

    def is_lfs(self, name: str) -> bool:
        return name.endswith(LFS_SUFFIXES)


class HubServer:
    """Start with ``start()`` (or as a context manager); ``url`` is the ``HF_ENDPOINT``."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.served: Counter[str] = Counter()  # "repo/file" -> body bytes sent
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Range
        #: One entry per body, added when it starts: ("repo/file", first byte, bytes sent).
        self.transfers: list[Transfer] = []
        self.throttle_s = 0.0
        self.stall_s = 0.0
        self._interrupts: dict[str, list[int]] = {}
        self._failures: dict[str, list[int]] = {}
        self._tampered: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._cdn: ThreadingHTTPServer | None = None
        self._url = self._cdn_url = ""

    # -- set-up -----------------------------------------------------------------------------
    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes],
        *,
        private: bool = False,
        config: dict | None = None,
    ) -> str:
        """Publish ``files`` as ``repo_id`` at a new commit on ``main``; returns the commit."""
        digest = hashlib.sha1(repo_id.encode())
        for name in sorted(files):
            digest.update(name.encode() + git_blob_id(files[name]).encode())
        commit = digest.hexdigest()
        repo = Repo(dict(files), private, config, commit, {"main": commit, commit: commit})
        self.repos[repo_id] = repo
        return commit

    def interrupt(
        self,
        repo_id: str,
        name: str,
        after: int | list[int],
        times: int = 1,
        stall_s: float = 0.0,
    ) -> None:
        """Cut the next ``times`` body transfers of ``name`` after ``after`` bytes each.

        A list for ``after`` gives each successive transfer its own cut point. With ``stall_s``
        the server first goes silent that long, as a stalled link does.
        """
        cuts = after if isinstance(after, list) else [after] * times
        self._interrupts[f"{repo_id}/{name}"] = list(cuts)
        self.stall_s = stall_s

    def fail(self, repo_id: str, name: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` downloads of ``name`` with ``status`` (e.g. 503)."""
        self._failures[f"{repo_id}/{name}"] = [status] * times

    def corrupt_in_transit(self, repo_id: str, name: str) -> None:
        """Serve different bytes than the listing's hashes promise (same size)."""
        data = bytearray(self.repos[repo_id].files[name])
        data[len(data) // 2] ^= 0xFF
        self._tampered[f"{repo_id}/{name}"] = bytes(data)

    @property
    def url(self) -> str:
        """The endpoint (``HF_ENDPOINT``); stays valid (and refused) after ``stop()``."""
        return self._url

    @property
    def cdn_url(self) -> str:
        """The LFS blob host: another port, so another origin, like the Hub's CDN."""
        return self._cdn_url

    def start(self) -> HubServer:
        handler = type("Handler", (_Handler,), {"hub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._cdn = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        for httpd in (self._httpd, self._cdn):
            httpd.daemon_threads = True
            # A short poll interval keeps stop() (and so each test's teardown) quick.
            serve = partial(httpd.serve_forever, poll_interval=0.02)
            threading.Thread(target=serve, daemon=True).start()
        self._url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._cdn_url = f"http://127.0.0.1:{self._cdn.server_address[1]}"
        return self

    def stop(self) -> None:
        for httpd in (self._httpd, self._cdn):
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
        self._httpd = self._cdn = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def total_served(self, repo_id: str) -> int:
        return sum(n for k, n in self.served.items() if k.startswith(repo_id + "/"))

    # -- used by the handler ----------------------------------------------------------------
    def _take_interrupt(self, key: str) -> int | None:
        with self._lock:
            pending = self._interrupts.get(key)
            if not pending:
                return None
            return pending.pop(0)

    def _body(self, key: str, data: bytes) -> bytes:
        return self._tampered.get(key, data)


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # keep pytest output clean

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
        self._route(head=True)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._route(head=False)

    # -- routing ----------------------------------------------------------------------------
    def _route(self, head: bool) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        self.hub.requests.append((self.command, path, self.headers.get("Range")))
        if path.startswith("/api/models/"):
            self._model_info(path.removeprefix("/api/models/"), parse_qs(split.query))
        elif path.startswith("/cdn/"):
            self._cdn(path.removeprefix("/cdn/"), head)
        elif "/resolve/" in path:
            repo_id, _, rest = path.lstrip("/").partition("/resolve/")
            rev, _, name = rest.partition("/")
            self._resolve(repo_id, rev, name, head)
        else:
            self._error(404, "RepoNotFound", "not found")

    def _repo(self, repo_id: str) -> Repo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", "Repository not found")
            return None
        auth = self.headers.get("Authorization")
        if auth is not None and auth != f"Bearer {TOKEN}":  # the Hub checks any token sent
            self._error(401, "", "Invalid credentials in Authorization header")
            return None
        if repo.private and auth != f"Bearer {TOKEN}":
            self._error(401, "RepoNotFound", "Invalid username or password.")
            return None
        return repo

    def _commit(self, repo: Repo, rev: str) -> str | None:
        commit = repo.branches.get(rev)
        if commit is None:
            self._error(404, "RevisionNotFound", "Invalid rev id")
        return commit

    def _model_info(self, rest: str, query: dict[str, list[str]]) -> None:
        repo_id, _, rev = rest.partition("/revision/")
        repo = self._repo(repo_id)
        if repo is None:
            return
        commit = self._commit(repo, rev or "main")
        if commit is None:
            return
        blobs = query.get("blobs") == ["true"] or query.get("blobs") == ["True"]
        siblings = []
        for name, data in sorted(repo.files.items()):
            sib: dict = {"rfilename": name}
            if blobs:
                sib.update(size=len(data), blobId=git_blob_id(data))
                if repo.is_lfs(name):
                    sha = hashlib.sha256(data).hexdigest()
                    sib["lfs"] = {"sha256": sha, "size": len(data), "pointerSize": 134}
            siblings.append(sib)
        info = {"id": repo_id, "sha": commit, "private": repo.private, "siblings": siblings}
        if repo.config is not None:
            info["config"] = repo.config
        self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"})

    def _resolve(self, repo_id: str, rev: str, name: str, head: bool) -> None:
        repo = self._repo(repo_id)
        if repo is None:
            return
        commit = self._commit(repo, rev)
        if commit is None:
            return
        data = repo.files.get(name)
        if data is None:
            self._error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": commit})
            return
        headers = {"X-Repo-Commit": commit}
        if repo.is_lfs(name):
            sha = hashlib.sha256(data).hexdigest()
            headers.update(
                {
                    "Location": f"{self.hub.cdn_url}/cdn/{sha}?repo={repo_id}&file={name}",
                    "X-Linked-Etag": f'"{sha}"',
                    "X-Linked-Size": str(len(data)),
                    "ETag": f'"{git_blob_id(data)}"',
                }
            )
            self._send(302, b"", headers)
            return
        headers["ETag"] = f'"{git_blob_id(data)}"'
        self._file(f"{repo_id}/{name}", data, headers, head)

    def _cdn(self, sha: str, head: bool) -> None:
        query = parse_qs(urlsplit(self.path).query)
        repo_id, name = query.get("repo", [""])[0], query.get("file", [""])[0]
        repo = self.hub.repos.get(repo_id)
        data = repo.files.get(name) if repo else None
        if data is None or hashlib.sha256(data).hexdigest() != sha:
            self._error(404, "EntryNotFound", "no such blob")
            return
        self._file(f"{repo_id}/{name}", data, {"ETag": f'"{sha}"'}, head)

    # -- bodies -----------------------------------------------------------------------------
    def _file(self, key: str, data: bytes, headers: dict[str, str], head: bool) -> None:
        with self.hub._lock:
            failures = self.hub._failures.get(key)
            status = failures.pop(0) if failures and not head else None
        if status is not None:
            self._error(status, "", "Service Unavailable")
            return
        data = self.hub._body(key, data)
        start = 0
        status = 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and not head:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                return
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        headers["Accept-Ranges"] = "bytes"
        body = data[start:]
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        cut = self.hub._take_interrupt(key)
        limit = len(body) if cut is None else min(cut, len(body))
        transfer = Transfer(key, start)
        with self.hub._lock:
            self.hub.transfers.append(transfer)
        sent = 0
        while sent < limit:
            piece = body[sent : min(sent + _CHUNK, limit)]
            # Counted before the write: a client may finish reading (and a test look at the
            # counters) before this thread runs again.
            with self.hub._lock:
                self.hub.served[key] += len(piece)
                transfer.sent += len(piece)
            try:
                self.wfile.write(piece)
            except (BrokenPipeError, ConnectionResetError):
                with self.hub._lock:
                    self.hub.served[key] -= len(piece)
                    transfer.sent -= len(piece)
                break
            sent += len(piece)
            if self.hub.throttle_s:
                time.sleep(self.hub.throttle_s)
        if cut is not None:
            self.wfile.flush()
            if self.hub.stall_s:
                time.sleep(self.hub.stall_s)
            self.connection.close()  # the client sees a short body: a dropped connection

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(
        self, status: int, code: str, message: str, extra: dict[str, str] | None = None
    ) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message, **(extra or {})}
        body = json.dumps({"error": message}).encode()
        self._send(status, body, {"Content-Type": "application/json", **headers})
