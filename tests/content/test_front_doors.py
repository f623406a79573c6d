"""Serving a version under another URL prefix with a custom lookup (what the Pulp 2 web paths
use), in process against a real database."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
import pytest

from pulpwood.plugin import ServeTarget, mount_prefix
from tests.conftest import database_url, server_env
from tests.content.conftest import Seeder


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    from pulpwood.db.migrate import upgrade
    from pulpwood.settings import Settings

    tmp = tmp_path_factory.mktemp("frontdoor")
    env = server_env(tmp, database_url(tmp))
    place = SimpleNamespace(data_dir=tmp, env=env)
    upgrade(Settings(data_dir=tmp, database_url=env.get("PULP_DATABASE_URL")))
    return place


def test_custom_prefix_serves_a_version(db):
    from pulpwood.server import create_app
    from pulpwood.runtime import build_runtime
    from tests.content.conftest import server_settings

    ids = Seeder(db).repository({"isos/one.iso": b"iso bytes", "PULP_MANIFEST": b"manifest"})
    target = ServeTarget(repository_id=ids["repository_id"], version_number=1)
    seen = []

    async def lookup(session, candidates, path):
        seen.append(list(candidates))
        return ("legacy/repo", target) if "legacy/repo" in candidates else None

    async def main():
        runtime = build_runtime(server_settings(db))
        app = create_app(runtime, serve_api=False)
        mount_prefix(app, runtime, "/pulp/isos/", lookup)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.get("/pulp/isos/legacy/repo/isos/one.iso")
                assert response.status_code == 200 and response.content == b"iso bytes"
                assert response.headers["content-length"] == "9"
                ranged = await client.get("/pulp/isos/legacy/repo/isos/one.iso", headers={"Range": "bytes=0-2"})
                assert ranged.status_code == 206 and ranged.content == b"iso"
                listing = await client.get("/pulp/isos/legacy/repo/")
                assert '<a href="./isos/">' in listing.text and '<a href="./PULP_MANIFEST">' in listing.text
                assert (await client.get("/pulp/isos/legacy/repo")).status_code == 301
                missing = await client.get("/pulp/isos/other/thing")
                assert missing.status_code == 404 and missing.text == "404: Not Found"
                assert (await client.get("/pulp/isos/legacy/repo/%2e%2e/x")).status_code == 404
                # The content app proper is untouched: nothing is distributed there.
                assert (await client.get("/pulp/content/legacy/repo/isos/one.iso")).status_code == 404
        finally:
            await runtime.close()

    asyncio.run(main())
    assert ["legacy/repo/isos/one.iso", "legacy/repo/isos", "legacy/repo", "legacy"] in seen


def test_content_path_prefix_setting_is_honoured(db):
    from pulpwood.server import create_app
    from pulpwood.runtime import build_runtime
    from pulpwood.settings import Settings

    seeder = Seeder(db)
    ids = seeder.repository({"f.txt": b"elsewhere"})
    seeder.distribution("moved", repository_id=ids["repository_id"])

    async def main():
        settings = Settings(data_dir=db.data_dir, database_url=db.env.get("PULP_DATABASE_URL"),
                            content_path_prefix="/somewhere/else/")
        runtime = build_runtime(settings)
        app = create_app(runtime, serve_api=False)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                assert (await client.get("/somewhere/else/moved/f.txt")).content == b"elsewhere"
                assert (await client.get("/pulp/content/moved/f.txt")).status_code == 404
                root = await client.get("/somewhere/else/")
                assert '<a href="./moved/">' in root.text
        finally:
            await runtime.close()

    asyncio.run(main())
