"""Fixtures of the core tests: one server with the test-only sleep task, helpers to drive it."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import PulpCLI, Server, start_server

TERMINAL = ("completed", "failed", "canceled", "skipped")


@pytest.fixture(scope="package")
def core_server(tmp_path_factory) -> Server:
    """A real `pulpwood serve` with 2 workers and the test-only tasks enabled."""
    srv = start_server(tmp_path_factory.mktemp("core"), PULPWOOD_TEST_TASKS="1")
    yield srv
    srv.stop()


@pytest.fixture
def api(core_server):
    with core_server.client() as c:
        yield c


@pytest.fixture
def cli(core_server, tmp_path) -> PulpCLI:
    return PulpCLI(core_server, tmp_path)


def sleep_task(client, seconds: float, *, exclusive=(), shared=(), fail: bool = False) -> str:
    response = client.post("/pulp/api/v3/test/sleep/", json={"seconds": seconds, "exclusive": list(exclusive),
                                                              "shared": list(shared), "fail": fail})
    assert response.status_code == 202, response.text
    return response.json()["task"]


def wait_state(client, href: str, states, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.get(href).json()
        if task["state"] in states:
            return task
        time.sleep(0.05)
    raise AssertionError(f"{href} never reached {states}; last: {task}")


def wait_done(client, href: str, timeout: float = 60) -> dict:
    return wait_state(client, href, TERMINAL, timeout)


def run_sql(server: Server, statements: list[tuple[str, dict]]) -> list:
    """Run SQL against the server's own database (to set up rows the API cannot make yet)."""
    from sqlalchemy import text

    from pulpwood.db.engine import create_engine
    from pulpwood.settings import Settings

    settings = Settings(data_dir=server.data_dir, database_url=server.env.get("PULP_DATABASE_URL"))

    async def go():
        engine = create_engine(settings)
        try:
            async with engine.begin() as conn:
                out = []
                for sql, params in statements:
                    result = await conn.execute(text(sql), params)
                    out.append(result.fetchall() if result.returns_rows else None)
                return out
        finally:
            await engine.dispose()

    return asyncio.run(go())
