"""Upstreams that misbehave mid-sync: the sync retries what can be retried, fails clearly on
what cannot, and never hangs."""

from __future__ import annotations

import threading
import time

from tests.ostree_sync.support import REFS, build_upstream, pull_mirror, serve_directory

RAWHIDE = REFS[1]


def _first_answer_is_503():
    asked: set[str] = set()
    lock = threading.Lock()

    def quirk(handler) -> bool:
        if "/objects/" not in handler.path:
            return False
        with lock:
            first = handler.path not in asked
            asked.add(handler.path)
        if first:
            handler.send_response(503)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        return first

    return quirk


def _fresh(upstreams, name: str):
    """An upstream none of whose objects pulpwood has stored yet."""
    return build_upstream(upstreams.root / name, salt=f"quirky upstream {name}")


def test_server_errors_are_retried_and_the_sync_completes(api, upstreams, tmp_path):
    upstream = _fresh(upstreams, "flaky-503")
    with serve_directory(upstream.path, quirk=_first_answer_is_503()) as url:
        repository = api.repository()
        task = api.sync(repository, api.remote(url, depth=-1))
        assert task["state"] == "completed", task["error"]
    served = api.distribute(repository)
    assert pull_mirror(served, RAWHIDE, tmp_path / "p", depth=-1) == upstream.history[RAWHIDE]


def test_connections_closed_under_pipelined_requests_are_resent(api, upstreams, tmp_path):
    # Every connection is dropped after its third answer, with more requests already sent.
    def quirk(handler) -> bool:
        handler.answered = getattr(handler, "answered", 0) + 1
        if handler.answered >= 3:
            handler.close_connection = True
        return False

    upstream = _fresh(upstreams, "closing")
    with serve_directory(upstream.path, quirk=quirk) as url:
        repository = api.repository()
        task = api.sync(repository, api.remote(url, depth=-1))
        assert task["state"] == "completed", task["error"]
    served = api.distribute(repository)
    assert pull_mirror(served, RAWHIDE, tmp_path / "p", depth=-1) == upstream.history[RAWHIDE]


def test_an_object_that_never_arrives_fails_the_sync_instead_of_hanging(api, upstreams):
    path = _fresh(upstreams, "stuck").path
    victim = max((path / "objects").rglob("*.filez"), key=lambda p: p.stat().st_size)
    relative = str(victim.relative_to(path))
    release = threading.Event()

    def quirk(handler) -> bool:
        if handler.path.endswith(relative):
            release.wait(60)  # the upstream holds this answer (and its connection) back
            handler.close_connection = True
            return True
        return False

    try:
        with serve_directory(path, quirk=quirk) as url:
            repository = api.repository()
            remote = api.remote(url, depth=-1, sock_read_timeout=1.0, max_retries=0)
            started = time.monotonic()
            task = api.sync(repository, remote)
            assert task["state"] == "failed"
            assert time.monotonic() - started < 45
            assert relative in task["error"]["description"]
            assert api.latest(repository)["number"] == 0
    finally:
        release.set()


def test_tls_upstream_with_basic_auth(api, upstreams, tmp_path):
    # The pipelined client does its own TLS and Authorization header: both must reach a
    # real HTTPS server that refuses anonymous requests.
    import ssl

    import trustme

    from tests.file.upstream import start_upstream

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    upstream = _fresh(upstreams, "tls-auth")
    server = start_upstream(upstream.path, auth=("mirror", "s3cret"), ssl_context=context)
    try:
        url = server.base_url + "/"
        ca_pem = ca.cert_pem.bytes().decode()
        anonymous = api.sync(api.repository(), api.remote(url, ca_cert=ca_pem, max_retries=0))
        assert anonymous["state"] == "failed" and "401" in anonymous["error"]["description"]
        repository = api.repository()
        remote = api.remote(url, depth=-1, ca_cert=ca_pem, username="mirror", password="s3cret")
        task = api.sync(repository, remote)
        assert task["state"] == "completed", task["error"]
        assert any(path.endswith(".filez") for path in server.requests)
    finally:
        server.stop()
    served = api.distribute(repository)
    assert pull_mirror(served, RAWHIDE, tmp_path / "p", depth=-1) == upstream.history[RAWHIDE]
