"""A real upstream for file syncs: an HTTP(S) server on 127.0.0.1 in a thread, serving a
generated tree with its PULP_MANIFEST, optionally behind basic auth or TLS, with a path that
never answers."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_tree(root: Path, files: dict[str, bytes], manifest: str = "PULP_MANIFEST",
               extra_lines: list[str] = ()) -> Path:
    """Write `files` under `root` and a manifest describing them; returns the manifest path."""
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        lines.append(f"{path},{sha256(data)},{len(data)}")
    (root / manifest).write_text("\n".join([*lines, *extra_lines]) + "\n")
    return root / manifest


def random_files(count: int, size: int = 1000, prefix: str = "") -> dict[str, bytes]:
    return {f"{prefix}file-{i}.bin": os.urandom(size) for i in range(count)}


@dataclass
class Upstream:
    root: Path
    base_url: str
    server: http.server.ThreadingHTTPServer
    requests: list[str] = field(default_factory=list)

    def url(self, path: str = "PULP_MANIFEST") -> str:
        return f"{self.base_url}/{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_upstream(root: Path, *, auth: tuple[str, str] | None = None, ssl_context: ssl.SSLContext | None = None,
                   hang_prefix: str = "/hang/") -> Upstream:
    root.mkdir(parents=True, exist_ok=True)
    seen: list[str] = []
    expected = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode() if auth else None

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real mirrors do

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.path)
            if self.path.startswith(hang_prefix):
                time.sleep(30)  # an upstream that never answers in time
                return
            if expected and self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="upstream"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = "localhost" if ssl_context is not None else "127.0.0.1"
    return Upstream(root, f"{scheme}://{host}:{server.server_address[1]}", server, seen)
