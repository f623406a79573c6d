"""What the content app's fast path (plain GET/HEAD of a stored file) must keep: the same
answers as the general path, and every change of what a distribution serves seen at once.

A request carrying `If-None-Match` with a tag that matches nothing is answered by the general
path with a full 200, so comparing it with the plain request compares the two paths.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.content.conftest import raw_get, read_response, run_db

PREFIX = "/pulp/content/"
BIG = bytes(range(256)) * 1100  # 281600 bytes: more than the fast path reads in one go
FILES = {
    "objects/ab/cdef.filez": b"\x00\x01 small object",
    "big.iso": BIG,
    "repodata/primary.xml.gz": b"\x1f\x8b gzip",
    "empty": b"",
    "config": b"[core]\nrepo_version=1\n",
}
# Headers that differ between any two answers.
VOLATILE = {"date", "correlation-id"}


@pytest.fixture(scope="module")
def http(content_server):
    with httpx.Client(base_url=content_server.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def fast(seed):
    ids = seed.repository(FILES)
    seed.distribution("fast/main", repository_id=ids["repository_id"])
    return ids


def _update_distribution(server, where_base_path: str, **values) -> None:
    from sqlalchemy import update

    from pulpwood.models import Distribution

    async def fn(runtime):
        async with runtime.write_session() as session:
            async with session.begin():
                await session.execute(update(Distribution).where(Distribution.base_path == where_base_path).values(**values))

    run_db(server, fn)


def _delete_distribution(server, base_path: str) -> None:
    from sqlalchemy import delete

    from pulpwood.models import Distribution

    async def fn(runtime):
        async with runtime.write_session() as session:
            async with session.begin():
                await session.execute(delete(Distribution).where(Distribution.base_path == base_path))

    run_db(server, fn)


def _stable(response: httpx.Response) -> dict:
    return {name: value for name, value in response.headers.items() if name not in VOLATILE}


@pytest.mark.parametrize("path", list(FILES))
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_plain_request_answers_like_the_general_path(fast, http, path, method):
    plain = http.request(method, PREFIX + "fast/main/" + path)
    general = http.request(method, PREFIX + "fast/main/" + path, headers={"If-None-Match": '"no-such-tag"'})
    assert plain.status_code == general.status_code == 200
    assert _stable(plain) == _stable(general)
    assert plain.content == general.content == (b"" if method == "HEAD" else FILES[path])
    assert plain.headers["content-length"] == str(len(FILES[path]))
    assert plain.headers["etag"] == f'"{hashlib.sha256(FILES[path]).hexdigest()}"'


def test_correlation_id_is_echoed_or_made(fast, http):
    cid = uuid.uuid4().hex
    assert http.get(PREFIX + "fast/main/config", headers={"Correlation-ID": cid}).headers["correlation-id"] == cid
    made = http.get(PREFIX + "fast/main/config")
    assert len(made.headers["correlation-id"]) == 32
    assert made.headers["access-control-expose-headers"] == "Correlation-ID"
    missing = http.get(PREFIX + "fast/main/nothing", headers={"Correlation-ID": cid})
    assert missing.status_code == 404 and missing.headers["correlation-id"] == cid


@pytest.mark.parametrize("size", [100, len(BIG)])
def test_file_gone_from_storage_is_404(seed, content_server, http, size):
    data = uuid.uuid4().bytes * (size // 16)
    base = f"fast/vanish-{size}"
    ids = seed.repository({"vanish.bin": data})
    seed.distribution(base, repository_id=ids["repository_id"])
    assert http.get(PREFIX + base + "/vanish.bin").content == data
    sha = hashlib.sha256(data).hexdigest()
    (content_server.data_dir / "media" / "artifact" / sha[:2] / sha[2:]).unlink()
    for method in ("GET", "HEAD"):
        response = http.request(method, PREFIX + base + "/vanish.bin")
        assert response.status_code == 404, method
    assert http.get(PREFIX + base + "/vanish.bin").text == "404: Not Found"


@pytest.mark.parametrize("size", [100, 4096])
@pytest.mark.parametrize("change", [b"grown", b""])
def test_stored_file_of_another_size_is_answered_like_the_general_path(seed, content_server, http, size, change):
    data = uuid.uuid4().bytes * (size // 16) + b"x" * (size % 16)
    base = f"fast/resized-{size}-{len(change)}"
    ids = seed.repository({"resized.bin": data})
    seed.distribution(base, repository_id=ids["repository_id"])
    sha = hashlib.sha256(data).hexdigest()
    stored = content_server.data_dir / "media" / "artifact" / sha[:2] / sha[2:]
    stored.write_bytes(data + change if change else data[: size // 2])
    plain = http.get(PREFIX + base + "/resized.bin")
    general = http.get(PREFIX + base + "/resized.bin", headers={"If-None-Match": '"no-such-tag"'})
    assert plain.status_code == general.status_code
    assert plain.content == general.content != data


def test_file_not_in_the_page_cache_is_served(fast, content_server, http):
    # Files up to WHOLE_READ are read whole once the kernel has read them (read_when_cached).
    for path in ("objects/ab/cdef.filez", "repodata/primary.xml.gz", "big.iso"):
        sha = hashlib.sha256(FILES[path]).hexdigest()
        fd = os.open(content_server.data_dir / "media" / "artifact" / sha[:2] / sha[2:], os.O_RDONLY)
        try:
            os.fsync(fd)  # written pages stay cached until they are on disk
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # the next read waits for the disk
        finally:
            os.close(fd)
        response = http.get(PREFIX + "fast/main/" + path)
        assert response.status_code == 200 and response.content == FILES[path]


def test_distribution_changes_are_seen_at_once(seed, content_server, http):
    one = seed.repository({"f.txt": b"one"})
    two = seed.repository({"f.txt": b"two", "only-two.txt": b"2"})
    v2 = seed.add_version(one["repository_id"], add=two["content_ids"], remove=one["content_ids"])
    seed.distribution("fast/moving", repository_version_id=one["version_id"])
    url = PREFIX + "fast/moving/f.txt"
    assert http.get(url).content == b"one"
    assert http.get(PREFIX + "fast/moving/only-two.txt").status_code == 404

    _update_distribution(content_server, "fast/moving", repository_version_id=v2)
    assert http.get(url).content == b"two"
    assert http.get(PREFIX + "fast/moving/only-two.txt").content == b"2"

    # Following the repository: a new version is served by the next request.
    _update_distribution(content_server, "fast/moving", repository_version_id=None,
                         repository_id=one["repository_id"])
    assert http.get(url).content == b"two"
    three = seed.repository({"f.txt": b"three"})
    seed.add_version(one["repository_id"], add=three["content_ids"], remove=two["content_ids"])
    assert http.get(url).content == b"three"
    assert http.get(PREFIX + "fast/moving/only-two.txt").status_code == 404

    _update_distribution(content_server, "fast/moving", base_path="fast/moved")
    assert http.get(url).status_code == 404
    assert http.get(PREFIX + "fast/moved/f.txt").content == b"three"
    _delete_distribution(content_server, "fast/moved")
    assert http.get(PREFIX + "fast/moved/f.txt").status_code == 404


def test_nested_distribution_added_later_takes_over(seed, http):
    outer = seed.repository({"x/b.txt": b"outer's b", "a.txt": b"outer a"})
    seed.distribution("fast/late", repository_id=outer["repository_id"])
    assert http.get(PREFIX + "fast/late/x/b.txt").content == b"outer's b"
    inner = seed.repository({"b.txt": b"inner b"})
    seed.distribution("fast/late/x", repository_id=inner["repository_id"])
    assert http.get(PREFIX + "fast/late/x/b.txt").content == b"inner b"
    assert http.get(PREFIX + "fast/late/a.txt").content == b"outer a"
    # The nested base path itself is a distribution root, not a file of the outer one.
    assert http.get(PREFIX + "fast/late/x").status_code == 301


def test_nested_distribution_is_not_answered_from_the_outer_ones_files(seed, http):
    """The outer distribution's version, read often enough to be held in memory, has a file
    at the nested distribution's path too; the nested one answers it all the same."""
    run = uuid.uuid4().hex
    files = {f"objects/{n:02x}/{run}.filez": f"object {n}".encode() for n in range(80)}
    outer = seed.repository({**files, "x/b.txt": b"outer's b " + run.encode()})
    inner = seed.repository({"b.txt": b"inner b " + run.encode()})
    seed.distribution(f"fast/{run}", repository_id=outer["repository_id"])
    seed.distribution(f"fast/{run}/x", repository_id=inner["repository_id"])
    for _ in range(2):
        for path, data in files.items():
            assert http.get(PREFIX + f"fast/{run}/" + path).content == data
    import time

    time.sleep(0.5)  # the outer version's files are loaded in the background
    for _ in range(3):
        assert http.get(PREFIX + f"fast/{run}/x/b.txt").content == b"inner b " + run.encode()


def test_concurrent_requests_each_get_their_own_answer(seed, content_server):
    files = {f"objects/{i % 7:02x}/{i:04d}.filez": f"object {i}".encode() * (i % 5 + 1) for i in range(60)}
    ids = seed.repository(files)
    seed.distribution("fast/many", repository_id=ids["repository_id"])
    paths = [*files, *(f"objects/00/missing-{i}" for i in range(10))] * 3

    def get(path):
        with httpx.Client(base_url=content_server.base_url, timeout=30) as client:
            return path, client.get(PREFIX + "fast/many/" + path)

    with ThreadPoolExecutor(16) as pool:
        for path, response in pool.map(get, paths):
            if path in files:
                assert response.status_code == 200 and response.content == files[path], path
            else:
                assert response.status_code == 404, path


def test_h2c_upgrade_offer_is_answered_over_http1_without_a_warning(fast, content_server):
    headers = {"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c",
               "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}
    for _ in range(3):
        status, _, body = raw_get(content_server, PREFIX + "fast/main/config", headers=headers)
        assert status == 200 and body == FILES["config"]
    assert "Unsupported upgrade request" not in content_server.log()


def test_pipelined_requests_are_answered_in_order(fast, content_server):
    host, port = content_server.base_url.removeprefix("http://").split(":")
    paths = ["objects/ab/cdef.filez", "config", "nothing-here", "big.iso", "config"]
    requests = b"".join(f"GET {PREFIX}fast/main/{path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for path in paths)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(requests)
        buffer = b""
        for path in paths:
            head, body, buffer = read_response(sock, buffer)
            expected = FILES.get(path)
            assert head.startswith(b"HTTP/1.1 200" if expected is not None else b"HTTP/1.1 404"), (path, head)
            assert body == (expected if expected is not None else b"404: Not Found"), path


@pytest.mark.parametrize("path", ["big.iso", "config"])
@pytest.mark.parametrize("ending", ["HTTP/1.1\r\nConnection: close", "HTTP/1.0"])
def test_connection_close_gets_the_whole_answer_then_the_close(fast, content_server, path, ending):
    host, port = content_server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET {PREFIX}fast/main/{path} {ending}\r\nHost: x\r\n\r\n".encode())
        head, body, rest = read_response(sock, b"")
        assert head.startswith(b"HTTP/1.1 200") and body == FILES[path] and rest == b""
        assert b"connection: close" in head.lower().split(b"\r\n")
        assert sock.recv(1) == b""


def test_request_body_of_a_get_does_not_end_up_in_the_next_request(fast, content_server):
    host, port = content_server.base_url.removeprefix("http://").split(":")
    first = f"GET {PREFIX}fast/main/config HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    second = f"GET {PREFIX}fast/main/objects/ab/cdef.filez HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall((first + second).encode())
        head, body, buffer = read_response(sock, b"")
        assert head.startswith(b"HTTP/1.1 200") and body == FILES["config"]
        head, body, _ = read_response(sock, buffer)
        assert head.startswith(b"HTTP/1.1 200") and body == FILES["objects/ab/cdef.filez"]


def _delete_version(server, repository_id, number: int) -> None:
    from sqlalchemy import select

    from pulpwood.models import RepositoryVersion
    from pulpwood.services.versions import squash_version

    async def fn(runtime):
        async with runtime.write_session() as session:
            async with session.begin():
                version = await session.scalar(select(RepositoryVersion).where(
                    RepositoryVersion.repository_id == repository_id, RepositoryVersion.number == number))
                await squash_version(session, version)

    run_db(server, fn)


def test_version_read_file_by_file_answers_like_the_general_path_when_held_in_memory(seed, content_server, http):
    """Past TargetFiles.LOAD_AFTER lookups the content app holds the version's files in
    memory; deleting an earlier version moves the date of its content (Last-Modified) to the
    next one, and a file deleted from storage is a 404, as on the general path."""
    import time

    run = uuid.uuid4().hex
    files = {f"objects/{n:02x}/{run}.filez": f"object {n} of {run}".encode() for n in range(100)}
    paths = list(files)
    first = seed.repository({path: files[path] for path in paths[:50]})
    time.sleep(1.1)  # Last-Modified has whole seconds: the two versions' dates must differ
    later = seed.repository({path: files[path] for path in paths[50:]})
    version_2 = seed.add_version(first["repository_id"], add=later["content_ids"])
    seed.distribution("fast/memory", repository_version_id=version_2)

    def answers_like_the_general_path():
        for path in paths:
            plain = http.get(PREFIX + "fast/memory/" + path)
            general = http.get(PREFIX + "fast/memory/" + path, headers={"If-None-Match": '"no-such-tag"'})
            assert plain.status_code == 200 and plain.content == files[path], path
            assert _stable(plain) == _stable(general), path
        return {http.get(PREFIX + "fast/memory/" + path).headers["last-modified"] for path in paths}

    assert len(answers_like_the_general_path()) == 2  # the files of version 1, then those added in 2
    assert len(answers_like_the_general_path()) == 2  # loaded by now
    _delete_version(content_server, first["repository_id"], 1)
    assert len(answers_like_the_general_path()) == 1  # every file now dates from version 2
    sha = hashlib.sha256(files[paths[7]]).hexdigest()
    (content_server.data_dir / "media" / "artifact" / sha[:2] / sha[2:]).unlink()
    assert http.get(PREFIX + "fast/memory/" + paths[7]).status_code == 404
