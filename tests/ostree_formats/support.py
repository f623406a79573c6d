"""Helpers shared by the format tests: the ostree CLI, fixture trees, a loopback server."""

from __future__ import annotations

import functools
import os
import random
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BIG_SIZE = (1 << 20) + 4321
MAIN_REF = "pulpwood/x86_64/main"
OTHER_REF = "other"
TIMESTAMP_A = 1_700_000_000
TIMESTAMP_B = 1_700_086_400


def run_ostree(*args: str | os.PathLike[str]) -> str:
    """Run the ostree CLI; fail the test with its stderr if it exits non-zero."""
    if shutil.which("ostree") is None:
        pytest.skip("the ostree CLI is not installed")
    result = subprocess.run(
        ["ostree", *map(str, args)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"ostree {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout


def xattrs_supported(directory: Path) -> bool:
    with tempfile.NamedTemporaryFile(dir=directory) as probe:
        try:
            os.setxattr(probe.name, "user.pulpwood-probe", b"1")
        except OSError:
            return False
    return True


def write_tree(root: Path, version: int, with_xattrs: bool) -> None:
    """A small tree with nested dirs, a symlink, an executable, an empty and a 1 MiB+ file."""
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/share/doc/pulpwood").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "a/b/c").mkdir(parents=True)
    tool = root / "usr/bin/tool"
    tool.write_text(f"#!/bin/sh\necho version {version}\n")
    tool.chmod(0o755)
    (root / "usr/share/doc/pulpwood/README").write_text(f"readme v{version}\n" * 20)
    (root / "etc/empty").write_bytes(b"")
    (root / "etc/readme-link").symlink_to("../usr/share/doc/pulpwood/README")
    (root / "a/b/c/deep.txt").write_text("deep\n")
    (root / "a/b/private").mkdir()
    (root / "a/b/private").chmod(0o700)
    (root / "big.bin").write_bytes(random.Random(version).randbytes(BIG_SIZE))
    if version > 1:
        (root / "usr/share/doc/pulpwood/NEWS").write_text("new in v2\n")
        (root / "etc/new-link").symlink_to("/usr/bin/tool")
    if with_xattrs:
        labelled = root / "etc/labelled"
        labelled.write_text("has xattrs\n")
        for name in ("user.zeta", "user.alpha", "user.mid"):
            os.setxattr(labelled, name, f"value of {name}".encode())
        os.setxattr(root / "a", "user.dir", b"directory label")


@dataclass
class FixtureRepo:
    """An archive repo made by ``ostree commit``: main has commits A then B, other has A'."""

    path: Path
    commit_a: str
    commit_b: str
    commit_other: str
    tree_a: Path
    tree_b: Path
    with_xattrs: bool
    refs: dict[str, str] = field(default_factory=dict)

    def copy_to(self, destination: Path) -> Path:
        shutil.copytree(self.path, destination, symlinks=True)
        return destination


class _QuietHandler(SimpleHTTPRequestHandler):
    requested: list[str]

    def do_GET(self) -> None:
        self.requested.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Served:
    url: str
    requested: list[str]


@contextmanager
def serve_directory(directory: Path) -> Iterator[Served]:
    """Serve ``directory`` on 127.0.0.1 at a random port from a background thread."""
    requested: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"requested": requested})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", requested)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
