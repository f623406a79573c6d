"""Upstream fixtures for the sync tests: repositories made by the ostree CLI, served over HTTP."""

from __future__ import annotations

import functools
import os
import random
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REFS = ("fedora/stable", "rawhide")


def ostree(*args) -> str:
    result = subprocess.run(["ostree", *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"ostree {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout


def write_tree(root: Path, ref_index: int, version: int, salt: str = "") -> None:
    """Nested dirs, a symlink, an executable, empty files; changes a little per version."""
    rng = random.Random(ref_index * 100 + version)
    (root / "usr/bin").mkdir(parents=True, exist_ok=True)
    (root / "usr/share/doc/deep/er/still").mkdir(parents=True, exist_ok=True)
    (root / "etc").mkdir(exist_ok=True)
    tool = root / "usr/bin/tool"
    tool.write_text(f"#!/bin/sh\necho {ref_index}.{version}\n")
    tool.chmod(0o755)
    (root / "etc/empty").write_bytes(b"")
    (root / "usr/share/doc/empty-too").write_bytes(b"")
    link = root / "etc/tool-link"
    if not link.is_symlink():
        link.symlink_to("../usr/bin/tool")
    (root / "usr/share/doc/deep/er/still/data.bin").write_bytes(rng.randbytes(70_000))
    (root / "usr/share/doc/shared.txt").write_text("shared by every commit\n" * 50)
    (root / f"etc/v{version}.conf").write_text(f"version={version}\n")
    if salt:  # content no other fixture has, so no object is already stored
        (root / "usr/bin/tool").write_text(f"#!/bin/sh\necho {salt} {ref_index}.{version}\n")
        (root / "usr/share/doc/deep/er/still/data.bin").write_bytes(salt.encode() + rng.randbytes(70_000))


@dataclass
class Upstream:
    path: Path
    history: dict[str, list[str]] = field(default_factory=dict)  # ref -> commits, head first

    def head(self, ref: str) -> str:
        return self.history[ref][0]


def build_upstream(path: Path, commits_per_ref: int = 3, refs=REFS, salt: str = "") -> Upstream:
    """An archive repo with `refs`, each with `commits_per_ref` commits, and a summary."""
    path.mkdir(parents=True, exist_ok=True)
    ostree("init", f"--repo={path}", "--mode=archive")
    upstream = Upstream(path)
    for index, ref in enumerate(refs):
        tree = path.parent / f"tree-{path.name}-{index}"
        for version in range(1, commits_per_ref + 1):
            write_tree(tree, index, version, salt)
            ostree("commit", f"--repo={path}", f"--branch={ref}", f"--subject={ref} v{version}",
                   f"--add-metadata-string=version={version}", f"--timestamp=@{1_700_000_000 + version * 60}",
                   tree)
        upstream.history[ref] = _log(path, ref)
    ostree("summary", f"--repo={path}", "-u")
    return upstream


def _log(repo: Path, ref: str) -> list[str]:
    return [line.split()[1] for line in ostree("log", f"--repo={repo}", ref).splitlines()
            if line.startswith("commit ")]


class _QuietHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve_directory(directory: Path, protocol: str = "HTTP/1.1", delay: float = 0.0, quirk=None):
    """A real HTTP server on 127.0.0.1 serving `directory`; yields its base URL (with '/').

    `delay` seconds are spent before answering each object request (a slow upstream).
    `quirk(handler)` runs before each request is answered; when it returns True it has
    answered (or dropped) the request itself: misbehaving upstreams.
    """
    def do_GET(self):  # noqa: N802 - http.server naming
        if delay and "/objects/" in self.path:
            time.sleep(delay)
        if quirk is not None and quirk(self):
            return None
        return _QuietHandler.do_GET(self)

    handler_class = type("Handler", (_QuietHandler,), {"protocol_version": protocol, "do_GET": do_GET})
    handler = functools.partial(handler_class, directory=str(directory))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def pull_mirror(url: str, ref: str, dest: Path, depth: int = 0) -> list[str]:
    """`ostree pull --mirror` of `ref` from `url` into a new repo; fsck; return the log's commits."""
    if dest.exists():
        shutil.rmtree(dest)
    ostree("init", f"--repo={dest}", "--mode=archive")
    ostree("remote", "add", f"--repo={dest}", "--no-gpg-verify", "up", url)
    ostree("pull", f"--repo={dest}", "--mirror", f"--depth={depth}", "up", ref)
    ostree("fsck", f"--repo={dest}")
    return _log(dest, ref)


def corrupt_file(path: Path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
