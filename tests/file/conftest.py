"""Fixtures of the file plugin tests: one real server per module, real upstreams."""

from __future__ import annotations

import pytest

from tests.conftest import PulpCLI, start_server
from tests.file.upstream import start_upstream


@pytest.fixture(scope="module")
def file_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("file-server"))
    yield srv
    srv.stop()


@pytest.fixture
def cli(file_server, tmp_path) -> PulpCLI:
    return PulpCLI(file_server, tmp_path)


@pytest.fixture
def api(file_server):
    with file_server.client() as c:
        yield c


@pytest.fixture
def upstream(tmp_path):
    up = start_upstream(tmp_path / "upstream")
    yield up
    up.stop()
