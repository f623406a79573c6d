"""`uploads/`: chunks with Content-Range, commit into an artifact as a task, bad input."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from tests.core.conftest import wait_done

V3 = "/pulp/api/v3/"


def _new(api, size: int) -> dict:
    response = api.post(V3 + "uploads/", json={"size": size})
    assert response.status_code == 201, response.text
    return response.json()


def _put(api, href: str, chunk: bytes, content_range: str | None, sha256: str | None = None):
    headers = {"Content-Range": content_range} if content_range else {}
    data = {"sha256": sha256} if sha256 else {}
    return api.put(href, headers=headers, data=data, files={"file": ("file", chunk, "application/octet-stream")})


def test_chunked_upload_commits_into_an_artifact(api, core_server):
    data = os.urandom(2500)
    upload = _new(api, len(data))
    assert upload["size"] == 2500 and "completed" not in upload
    assert upload["prn"].startswith("prn:core.upload:")
    # Out of order on purpose: chunks are joined by offset, not by arrival.
    for start in (2000, 0, 1000):
        chunk = data[start:start + 1000]
        response = _put(api, upload["pulp_href"], chunk, f"bytes {start}-{start + len(chunk) - 1}/2500",
                        hashlib.sha256(chunk).hexdigest())
        assert response.status_code == 200, response.text
        assert response.json()["pulp_href"] == upload["pulp_href"]
    detail = api.get(upload["pulp_href"]).json()
    assert detail["chunks"] == [{"offset": 0, "size": 1000}, {"offset": 1000, "size": 1000},
                                {"offset": 2000, "size": 500}]
    sha256 = hashlib.sha256(data).hexdigest()
    response = api.post(upload["pulp_href"] + "commit/", json={"sha256": sha256})
    assert response.status_code == 202
    task = wait_done(api, response.json()["task"])
    assert task["state"] == "completed", task
    assert task["name"] == "pulpcore.app.tasks.upload.commit"
    artifact = api.get(task["created_resources"][0]).json()
    assert artifact["sha256"] == sha256 and artifact["size"] == 2500
    assert (core_server.data_dir / "media" / artifact["file"]).read_bytes() == data
    assert api.get(upload["pulp_href"]).status_code == 404
    assert not (core_server.data_dir / "media" / "upload" / upload["pulp_href"].split("/")[-2]).exists()


def test_commit_with_wrong_sha256_fails_and_stores_nothing(api, core_server):
    data = os.urandom(100)
    upload = _new(api, 100)
    assert _put(api, upload["pulp_href"], data, "bytes 0-99/100").status_code == 200
    task = wait_done(api, api.post(upload["pulp_href"] + "commit/", json={"sha256": "ab" * 32}).json()["task"])
    assert task["state"] == "failed"
    assert "sha256" in task["error"]["description"]
    assert task["created_resources"] == []
    sha256 = hashlib.sha256(data).hexdigest()
    assert api.get(V3 + "artifacts/", params={"sha256": sha256}).json()["count"] == 0
    assert not (core_server.data_dir / "media" / f"artifact/{sha256[:2]}/{sha256[2:]}").exists()
    # The upload is still there and can be committed properly.
    task = wait_done(api, api.post(upload["pulp_href"] + "commit/", json={"sha256": sha256}).json()["task"])
    assert task["state"] == "completed", task


def test_commit_of_a_missing_chunk_fails(api):
    upload = _new(api, 200)
    assert _put(api, upload["pulp_href"], b"x" * 100, "bytes 0-99/200").status_code == 200
    sha256 = hashlib.sha256(b"x" * 100).hexdigest()
    task = wait_done(api, api.post(upload["pulp_href"] + "commit/", json={"sha256": sha256}).json()["task"])
    assert task["state"] == "failed"
    assert "size" in task["error"]["description"]


def test_commit_of_existing_artifact_fails_like_pulp(api):
    data = os.urandom(50)
    sha256 = hashlib.sha256(data).hexdigest()
    assert api.post(V3 + "artifacts/", files={"file": ("f", data)}).status_code == 201
    upload = _new(api, 50)
    _put(api, upload["pulp_href"], data, "bytes 0-49/50")
    task = wait_done(api, api.post(upload["pulp_href"] + "commit/", json={"sha256": sha256}).json()["task"])
    assert task["state"] == "failed"
    assert task["error"]["description"] == f"Artifact with sha256 checksum of '{sha256}' already exists."


@pytest.mark.parametrize("content_range,chunk,sha256,message", [
    (None, b"abc", None, "Invalid or missing content range header."),
    ("bytes=0-2/10", b"abc", None, "Invalid or missing content range header."),
    ("bytes 5-2/10", b"abc", None, "Invalid or missing content range header."),
    ("bytes 0-3/10", b"abc", None, "Chunk size does not match content range."),
    ("bytes 8-10/10", b"abc", None, "End byte is greater than upload size."),
    ("bytes 0-2/10", b"abc", "00" * 32, "The sha256 checksum did not match."),
])
def test_bad_chunks_are_400(api, content_range, chunk, sha256, message):
    upload = _new(api, 10)
    response = _put(api, upload["pulp_href"], chunk, content_range, sha256)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [message]}
    assert api.get(upload["pulp_href"]).json()["chunks"] == []


def test_bad_upload_bodies(api):
    assert api.post(V3 + "uploads/", json={}).json() == {"size": ["This field is required."]}
    assert api.post(V3 + "uploads/", json={"size": "big"}).json() == {"size": ["A valid integer is required."]}
    assert api.post(V3 + "uploads/", json={"size": -1}).status_code == 400
    assert api.post(V3 + "uploads/", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    upload = _new(api, 10)
    no_file = api.put(upload["pulp_href"], headers={"Content-Range": "bytes 0-2/10"}, data={"sha256": "x"})
    assert no_file.status_code == 400 and "file" in no_file.json()
    assert api.post(upload["pulp_href"] + "commit/", json={}).json() == {"sha256": ["This field is required."]}
    missing = f"{V3}uploads/{uuid.uuid4()}/"
    assert _put(api, missing, b"abc", "bytes 0-2/10").status_code == 404
    assert api.post(missing + "commit/", json={"sha256": "00"}).status_code == 404


def test_list_filter_and_delete(api, core_server):
    upload = _new(api, 123456)
    _put(api, upload["pulp_href"], b"abc", "bytes 0-2/123456")
    page = api.get(V3 + "uploads/", params={"size": 123456}).json()
    assert [u["pulp_href"] for u in page["results"]] == [upload["pulp_href"]]
    assert api.get(V3 + "uploads/", params={"size__gt": 123456, "pulp_href__in": upload["pulp_href"]}).json()["count"] == 0
    assert api.delete(upload["pulp_href"]).status_code == 204
    assert api.get(upload["pulp_href"]).status_code == 404
    assert not (core_server.data_dir / "media" / "upload" / upload["pulp_href"].split("/")[-2]).exists()
