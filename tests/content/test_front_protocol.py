"""A connection as the front protocol reads it before uvicorn's protocol may take it over
(front_protocol.py): every request gets the answer it gets from uvicorn, whatever its shape
and whatever came before it on the connection, and connections are kept and closed as
uvicorn keeps and closes them."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import start_server
from tests.content.conftest import Seeder, read_response

BASE = "/pulp/content/front/main/"
FILES = {"objects/ab/cdef.filez": b"\x00\x01 small object", "config": b"[core]\nrepo_version=1\n"}
KEEP_ALIVE = 5  # uvicorn's keep-alive timeout, in seconds


@pytest.fixture(scope="module")
def front(seed):
    ids = seed.repository(FILES)
    seed.distribution("front/main", repository_id=ids["repository_id"])


def _connect(server) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _get(path: str, *headers: str) -> bytes:
    return "\r\n".join([f"GET {path} HTTP/1.1", "Host: x", *headers, "", ""]).encode()


def test_request_split_over_several_reads_is_answered(front, content_server):
    request = _get(BASE + "config", "Accept: */*")
    with _connect(content_server) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (request[:10], request[10:40], request[40:]):
            sock.sendall(piece)
            time.sleep(0.05)
        head, body, buffer = read_response(sock, b"")
        assert head.startswith(b"HTTP/1.1 200") and body == FILES["config"]
        sock.sendall(_get(BASE + "objects/ab/cdef.filez"))
        head, body, _ = read_response(sock, buffer)
        assert head.startswith(b"HTTP/1.1 200") and body == FILES["objects/ab/cdef.filez"]


def test_one_connection_serves_files_404s_and_the_api_in_turn(front, content_server):
    """Files answered at once, then a request handed over to uvicorn, then files again."""
    steps = [(BASE + "config", 200, FILES["config"]),
             (BASE + "objects/ab/cdef.filez", 200, FILES["objects/ab/cdef.filez"]),
             (BASE + "nothing-here", 404, b"404: Not Found"),
             ("/pulp/api/v3/status/", 200, None),
             (BASE + "config", 200, FILES["config"])]
    with _connect(content_server) as sock:
        buffer = b""
        for path, status, expected in steps:
            sock.sendall(_get(path, "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c"))
            head, body, buffer = read_response(sock, buffer)
            assert head.startswith(f"HTTP/1.1 {status}".encode()), (path, head)
            if expected is not None:
                assert body == expected, path
            else:
                assert b'"versions"' in body


def test_a_connection_is_served_the_new_version_of_its_distribution(seed, content_server):
    """A commit makes the content app forget what its distributions serve (SQLite: any commit;
    PostgreSQL: a served table's). The next request on a connection is answered once the
    distribution is learnt again, with the new version's file; so are the following ones."""
    first = seed.repository({"config": b"[core]\nfirst=1\n"})
    second = seed.repository({"config": b"[core]\nsecond=2\n"})
    seed.distribution("front/moving", repository_id=first["repository_id"])
    base = "/pulp/content/front/moving/"
    with _connect(content_server) as sock:
        buffer = b""

        def get(path: str) -> tuple[bytes, bytes]:
            nonlocal buffer
            sock.sendall(_get(base + path, "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c"))
            head, body, buffer = read_response(sock, buffer)
            return head, body

        for _ in range(3):
            head, body = get("config")
            assert head.startswith(b"HTTP/1.1 200") and body == b"[core]\nfirst=1\n"
        seed.add_version(first["repository_id"], add=second["content_ids"], remove=first["content_ids"])
        for path, status, expected in [("config", 200, b"[core]\nsecond=2\n"), ("config", 200, b"[core]\nsecond=2\n"),
                                       ("gone", 404, b"404: Not Found"), ("config", 200, b"[core]\nsecond=2\n")]:
            head, body = get(path)
            assert head.startswith(f"HTTP/1.1 {status}".encode()) and body == expected, (path, head, body)


@pytest.mark.parametrize("header", ["Bad Header: 1", "Nul: a\x00b", "Content-Length: x"])
def test_malformed_request_is_refused(front, content_server, header):
    with _connect(content_server) as sock:
        sock.sendall(_get(BASE + "config", header))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer


def test_websocket_upgrade_is_not_answered_as_a_file(front, content_server):
    with _connect(content_server) as sock:
        sock.sendall(_get(BASE + "config", "Connection: Upgrade", "Upgrade: websocket",
                          "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="))
        answer = sock.recv(65536)
    assert not answer.startswith(b"HTTP/1.1 200"), answer


def test_idle_connection_is_closed_after_the_keep_alive_timeout(front, content_server):
    with _connect(content_server) as sock:
        sock.sendall(_get(BASE + "config"))
        _, _, buffer = read_response(sock, b"")
        time.sleep(KEEP_ALIVE - 1.5)
        sock.sendall(_get(BASE + "config"))  # in time: the connection is still open
        head, body, buffer = read_response(sock, buffer)
        assert head.startswith(b"HTTP/1.1 200") and body == FILES["config"]
        last_answer = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server
        idle = time.monotonic() - last_answer
    assert KEEP_ALIVE - 0.5 < idle < KEEP_ALIVE + 2, idle


def test_server_stops_promptly_with_keep_alive_connections_open(tmp_path):
    server = start_server(tmp_path, workers=1)
    try:
        seed = Seeder(server)
        ids = seed.repository(FILES)
        seed.distribution("front/main", repository_id=ids["repository_id"])
        connections = [_connect(server) for _ in range(3)]
        connections[0].sendall(_get(BASE + "config"))  # answered at once: not handed over
        assert read_response(connections[0], b"")[1] == FILES["config"]
        started = time.monotonic()
        server.process.terminate()
        server.process.wait(timeout=30)
        # Sooner than the keep-alive timeout would close them: the server closed them itself.
        assert time.monotonic() - started < KEEP_ALIVE - 1, server.log()
        for sock in connections:
            assert sock.recv(1) == b""
            sock.close()
    finally:
        server.stop()
