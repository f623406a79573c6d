"""Small upstreams made by the tests: an OSTree repository built with the ostree CLI and a
PULP_MANIFEST file tree, each served over HTTP on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import subprocess
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def ostree(*args) -> str:
    result = subprocess.run(["ostree", *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"ostree {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout.strip()


def build_ostree_upstream(path: Path, refs=("fedora/stable", "rawhide"), commits: int = 2) -> dict[str, str]:
    """An archive repository with a few commits per ref and a summary; ref -> head commit."""
    repo = path / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    ostree("init", f"--repo={repo}", "--mode=archive")
    heads = {}
    for index, ref in enumerate(refs):
        tree = path / f"tree-{index}"
        for number in range(commits):
            (tree / "usr/bin").mkdir(parents=True, exist_ok=True)
            (tree / "etc").mkdir(exist_ok=True)
            tool = tree / "usr/bin/tool"
            tool.write_text(f"#!/bin/sh\necho {ref} {number}\n")
            tool.chmod(0o755)
            (tree / "etc/empty").write_bytes(b"")
            (tree / f"etc/v{number}.conf").write_text(f"version={number}\n" * 40)
            heads[ref] = ostree("commit", f"--repo={repo}", f"--branch={ref}", f"--subject={ref} {number}",
                                f"--add-metadata-string=version={index}.{number}", tree)
    ostree("summary", f"--repo={repo}", "-u")
    return heads


def build_file_upstream(path: Path, files: dict[str, bytes]) -> dict[str, str]:
    """Files plus a PULP_MANIFEST (name,sha256,size); name -> sha256."""
    path.mkdir(parents=True, exist_ok=True)
    lines, digests = [], {}
    for name, data in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
        lines.append(f"{name},{digests[name]},{len(data)}")
    (path / "PULP_MANIFEST").write_text("\n".join(lines) + "\n")
    return digests


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # keep test output clean unless asked
        import os
        if os.environ.get("PULP2_TEST_HTTP_LOG"):
            with open(os.environ["PULP2_TEST_HTTP_LOG"], "a") as log:
                log.write((format % args) + "\n")


class _Server(ThreadingHTTPServer):
    # Syncs open many connections at once; the default backlog of 5 drops some under load.
    request_queue_size = 128
    daemon_threads = True


@contextmanager
def serve(directory: Path):
    """An HTTP server for `directory` on 127.0.0.1; yields its base URL (ending in '/')."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
