"""Content whose bytes are only upstream: on_demand saves after a verified fetch, streamed never
does, a broken upstream gives 502 and a wrong digest drops the connection; nothing bad is stored."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.conftest import free_port
from tests.content.conftest import RemoteFile

PREFIX = "/pulp/content/"
PAYLOAD = bytes(range(256)) * 1200  # 307200 bytes: more than one streamed chunk


@pytest.fixture
def http(content_server):
    with httpx.Client(base_url=content_server.base_url, timeout=30) as client:
        yield client


def _dist(seed, upstream, files, policy, base):
    ids = seed.repository(files, policy=policy, remote_url=upstream.url + "/")
    seed.distribution(base, repository_id=ids["repository_id"])
    return ids


def test_on_demand_fetches_once_then_serves_from_storage(seed, upstream, http):
    upstream.files["/pkg/big.bin"] = PAYLOAD
    ids = _dist(seed, upstream, {"big.bin": RemoteFile(upstream.url + "/pkg/big.bin", PAYLOAD)}, "on_demand", "od/one")
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    assert seed.artifacts_with(sha) == 0
    listing = http.get(PREFIX + "od/one/").text  # the announced size is listed before any download
    assert ">big.bin</a>" in listing and "307.2 kB" in listing

    first = http.get(PREFIX + "od/one/big.bin")
    assert first.status_code == 200 and first.content == PAYLOAD
    assert first.headers["etag"] == f'"{sha}"'
    assert first.headers["x-pulp-artifact-size"] == str(len(PAYLOAD))
    assert upstream.hits["/pkg/big.bin"] == 1
    assert seed.artifacts_with(sha) == 1
    assert seed.attached_artifact(ids["content_artifacts"]["big.bin"]) is not None

    upstream.stop()
    again = http.get(PREFIX + "od/one/big.bin")
    assert again.status_code == 200 and again.content == PAYLOAD
    assert again.headers["content-length"] == str(len(PAYLOAD))


def test_on_demand_range_fetches_whole_object_and_sends_slice(seed, upstream, http):
    data = b"0123456789" * 1000
    upstream.files["/r.bin"] = data
    _dist(seed, upstream, {"r.bin": RemoteFile(upstream.url + "/r.bin", data)}, "on_demand", "od/range")
    response = http.get(PREFIX + "od/range/r.bin", headers={"Range": "bytes=5-14"})
    assert response.status_code == 206
    assert response.content == data[5:15]
    assert response.headers["content-range"] == f"bytes 5-14/{len(data)}"
    assert seed.artifacts_with(hashlib.sha256(data).hexdigest()) == 1
    assert http.get(PREFIX + "od/range/r.bin", headers={"Range": "bytes=20000-"}).status_code == 416


def test_head_on_on_demand_content(seed, upstream, http):
    data = b"head me" * 10
    upstream.files["/h.txt"] = data
    _dist(seed, upstream, {"h.txt": RemoteFile(upstream.url + "/h.txt", data)}, "on_demand", "od/head")
    response = http.head(PREFIX + "od/head/h.txt")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(len(data))


def test_streamed_never_saves(seed, upstream, http):
    data = b"streamed bytes " * 5000
    upstream.files["/s.bin"] = data
    ids = _dist(seed, upstream, {"s.bin": RemoteFile(upstream.url + "/s.bin", data)}, "streamed", "st/one")
    for _ in range(2):
        response = http.get(PREFIX + "st/one/s.bin")
        assert response.status_code == 200 and response.content == data
    assert upstream.hits["/s.bin"] == 2
    assert seed.artifacts_with(hashlib.sha256(data).hexdigest()) == 0
    assert seed.attached_artifact(ids["content_artifacts"]["s.bin"]) is None


def test_upstream_missing_or_refused_gives_502_and_stores_nothing(seed, upstream, http):
    data = b"never there"
    refused = f"http://127.0.0.1:{free_port()}/gone.bin"
    ids = _dist(seed, upstream, {
        "missing.bin": RemoteFile(upstream.url + "/missing.bin", data),
        "refused.bin": RemoteFile(refused, data),
    }, "on_demand", "od/broken")
    before = seed.stored_files()
    for name in ("missing.bin", "refused.bin"):
        response = http.get(PREFIX + "od/broken/" + name)
        assert response.status_code == 502, name
        assert response.headers["content-type"].startswith("text/plain")
        assert name.split(".")[0] in response.text or "Could not fetch" in response.text
        assert seed.attached_artifact(ids["content_artifacts"][name]) is None
    assert "404" in http.get(PREFIX + "od/broken/missing.bin").text
    assert seed.artifacts_with(hashlib.sha256(data).hexdigest()) == 0
    assert seed.stored_files() == before


@pytest.mark.parametrize("size_known", [True, False])
def test_digest_mismatch_aborts_and_stores_nothing(seed, upstream, http, size_known):
    promised = (b"A" if size_known else b"C") * 300000
    served = (b"B" if size_known else b"D") * 300000
    path = f"/bad-{size_known}.bin"
    upstream.files[path] = served
    _dist(seed, upstream, {"bad.bin": RemoteFile(upstream.url + path, promised, record_size=size_known)},
          "on_demand", f"od/bad{int(size_known)}")
    before = seed.stored_files()
    with pytest.raises(httpx.HTTPError):
        response = http.get(PREFIX + f"od/bad{int(size_known)}/bad.bin")
        # A complete body would be a lie: the server must cut the connection before the end.
        assert len(response.content) < len(served)
        raise httpx.RemoteProtocolError("short body")
    assert seed.artifacts_with(hashlib.sha256(served).hexdigest()) == 0
    assert seed.artifacts_with(hashlib.sha256(promised).hexdigest()) == 0
    assert seed.stored_files() == before


def test_unknown_size_streams_and_ranges(seed, upstream, http):
    data = bytes(range(256)) * 2000
    upstream.files["/u.bin"] = data
    upstream.unsized.add("/u.bin")
    _dist(seed, upstream, {"u.bin": RemoteFile(upstream.url + "/u.bin", data, record_size=False)},
          "streamed", "st/unsized")
    whole = http.get(PREFIX + "st/unsized/u.bin")
    assert whole.status_code == 200 and whole.content == data
    part = http.get(PREFIX + "st/unsized/u.bin", headers={"Range": "bytes=-10"})
    assert part.status_code == 206 and part.content == data[-10:]
    assert part.headers["content-range"] == f"bytes {len(data) - 10}-{len(data) - 1}/{len(data)}"
    assert seed.artifacts_with(hashlib.sha256(data).hexdigest()) == 0


def test_concurrent_first_fetches_store_one_artifact(seed, upstream, http, content_server):
    from concurrent.futures import ThreadPoolExecutor

    data = bytes(reversed(range(256))) * 3000
    upstream.files["/c.bin"] = data
    ids = _dist(seed, upstream, {"c.bin": RemoteFile(upstream.url + "/c.bin", data)}, "on_demand", "od/race")

    def fetch(_):
        with httpx.Client(base_url=content_server.base_url, timeout=60) as client:
            return client.get(PREFIX + "od/race/c.bin")

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(fetch, range(4)))
    assert all(r.status_code == 200 and r.content == data for r in responses)
    assert seed.artifacts_with(hashlib.sha256(data).hexdigest()) == 1
    assert seed.attached_artifact(ids["content_artifacts"]["c.bin"]) is not None
