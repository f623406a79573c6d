"""Fixtures for the content app: a server, an upstream HTTP server, and direct row seeding.

TEMPORARY, clearly marked: the typed distribution/content endpoints are written in parallel,
so `Seeder` inserts rows with the real plugin models (ostree, and file when present) through
the server's own database instead of the API. Switch to the API once it serves these types.
"""

from __future__ import annotations

import asyncio
import http.client
import http.server
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field

import pytest

from tests.conftest import start_server


def raw_get(server, path: str, method: str = "GET", headers: dict | None = None):
    """A request whose path is sent byte for byte (httpx would normalise `..`)."""
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def read_response(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes, bytes]:
    """(head, body, rest of the buffer) of the next response (it has a Content-Length)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, "connection closed early"
        buffer += chunk
    head, buffer = buffer.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(buffer) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed early"
        buffer += chunk
    return head, buffer[:length], buffer[length:]


@dataclass
class Upstream:
    """A real HTTP server on 127.0.0.1 serving `files`, counting GETs per path."""

    files: dict[str, bytes] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    # Paths answered without Content-Length (body ends when the connection closes).
    unsized: set[str] = field(default_factory=set)
    httpd: http.server.ThreadingHTTPServer | None = None

    def start(self) -> Upstream:
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                upstream.hits[self.path] = upstream.hits.get(self.path, 0) + 1
                data = upstream.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if self.path in upstream.unsized:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


@pytest.fixture(scope="module")
def content_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("content"), workers=1)
    yield srv
    srv.stop()


@pytest.fixture
def upstream():
    up = Upstream().start()
    yield up
    up.stop()


def server_settings(server):
    from pulpwood.settings import Settings

    return Settings(data_dir=server.data_dir, database_url=server.env.get("PULP_DATABASE_URL"))


def run_db(server, fn):
    """Run `await fn(runtime)` against the server's database and storage, in a fresh loop."""
    from pulpwood.runtime import build_runtime

    from pulpwood.queries.serve_changes import announce

    async def main():
        runtime = build_runtime(server_settings(server))
        try:
            result = await fn(runtime)
            await announce(runtime)  # as every writer does: the server's content app hears of it
            return result
        finally:
            await runtime.close()

    return asyncio.run(main())


@dataclass
class RemoteFile:
    """Content whose bytes are only at `url` (on_demand / streamed)."""

    url: str
    data: bytes  # what the recorded digest describes
    size: int | None = None
    record_size: bool = True  # False: the RemoteArtifact has no size (only the digest)


class Seeder:
    """TEMPORARY direct inserts (see module docstring)."""

    def __init__(self, server) -> None:
        self.server = server

    def repository(self, files: dict[str, bytes | RemoteFile], *, policy: str = "on_demand",
                   remote_url: str = "http://127.0.0.1:9/") -> dict:
        """An ostree repository whose version 1 holds `files`; returns ids."""
        from pulpwood.services.versions import commit_version, create_repository
        from pulpwood_ostree.models import OstreeContent, OstreeRemote, OstreeRepository
        import hashlib

        from sqlalchemy import select

        from pulpwood.models import Artifact, ContentArtifact, RemoteArtifact

        name = f"r-{uuid.uuid4().hex[:10]}"

        async def fn(runtime):
            async with runtime.write_session() as session:
                async with session.begin():
                    remote = OstreeRemote(name=name, url=remote_url, policy=policy)
                    session.add(remote)
                    repo = await create_repository(session, OstreeRepository(name=name))
                    ids = []
                    cas = {}
                    for path, item in files.items():
                        data = item.data if isinstance(item, RemoteFile) else item
                        sha = hashlib.sha256(data).hexdigest()
                        unit = OstreeContent(relative_path=path, digest=sha)
                        session.add(unit)
                        await session.flush()
                        artifact_id = None
                        if not isinstance(item, RemoteFile):
                            stored = runtime.storage.store_bytes(data)
                            existing = await session.scalar(select(Artifact.pulp_id).where(Artifact.sha256 == sha))
                            if existing is None:
                                artifact = Artifact(file=stored.file, size=stored.size, **stored.digests)
                                session.add(artifact)
                                await session.flush()
                                existing = artifact.pulp_id
                            artifact_id = existing
                        ca = ContentArtifact(pulp_id=uuid.uuid4(), content_id=unit.pulp_id, artifact_id=artifact_id,
                                             relative_path=path)
                        session.add(ca)
                        await session.flush()
                        if isinstance(item, RemoteFile):
                            size = item.size if item.size is not None else len(item.data)
                            size = size if item.record_size else None
                            session.add(RemoteArtifact(pulp_id=uuid.uuid4(), content_artifact_id=ca.pulp_id,
                                                       remote_id=remote.pulp_id, url=item.url, size=size,
                                                       sha256=sha))
                        ids.append(unit.pulp_id)
                        cas[path] = ca.pulp_id
                    await session.flush()
                    version = await commit_version(session, repo.pulp_id, add=ids)
                    return {"repository_id": repo.pulp_id, "version_id": version.pulp_id if version else None,
                            "remote_id": remote.pulp_id, "content_ids": ids, "content_artifacts": cas}

        return run_db(self.server, fn)

    def add_version(self, repository_id, add: list, remove: list | None = None):
        from pulpwood.services.versions import commit_version

        async def fn(runtime):
            async with runtime.write_session() as session:
                async with session.begin():
                    version = await commit_version(session, repository_id, add=add, remove=remove or [])
                    return version.pulp_id

        return run_db(self.server, fn)

    def distribution(self, base_path: str, **targets) -> uuid.UUID:
        from pulpwood_ostree.models import OstreeDistribution

        async def fn(runtime):
            async with runtime.write_session() as session:
                async with session.begin():
                    dist = OstreeDistribution(name=f"d-{uuid.uuid4().hex[:10]}", base_path=base_path, **targets)
                    session.add(dist)
                    await session.flush()
                    return dist.pulp_id

        return run_db(self.server, fn)

    def artifacts_with(self, sha256: str) -> int:
        from sqlalchemy import func, select

        from pulpwood.models import Artifact

        async def fn(runtime):
            async with runtime.read_session() as session:
                return await session.scalar(select(func.count()).where(Artifact.sha256 == sha256))

        return run_db(self.server, fn)

    def attached_artifact(self, content_artifact_id):
        from pulpwood.models import ContentArtifact

        async def fn(runtime):
            async with runtime.read_session() as session:
                return (await session.get(ContentArtifact, content_artifact_id)).artifact_id

        return run_db(self.server, fn)

    def stored_files(self) -> set[str]:
        root = self.server.data_dir / "media" / "artifact"
        return {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs}


@pytest.fixture(scope="module")
def seed(content_server) -> Seeder:
    return Seeder(content_server)
