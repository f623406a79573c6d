"""Fixtures of the file plugin tests: one real server for the package, real upstreams."""

from __future__ import annotations

import pytest

from tests.conftest import PulpCLI, start_server
from tests.file.upstream import start_upstream


@pytest.fixture(scope="package")
def file_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("file-server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="package")
def cli(file_server, tmp_path_factory) -> PulpCLI:
    # One home for all tests: pulp-cli parses and caches the API document only once.
    return PulpCLI(file_server, tmp_path_factory.mktemp("pulp-cli-home"))


@pytest.fixture
def api(file_server):
    with file_server.client() as c:
        yield c


@pytest.fixture
def upstream(tmp_path):
    up = start_upstream(tmp_path / "upstream")
    yield up
    up.stop()
