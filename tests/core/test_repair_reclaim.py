"""Repair and reclaim on a real synced repository (file plugin, real HTTP upstream):
repair fetches missing/corrupted artifacts again; reclaim drops files a remote can deliver;
orphan cleanup spares everything a version still uses."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading
import uuid

import pytest

from tests.core.conftest import wait_done

V3 = "/pulp/api/v3/"


@pytest.fixture
def upstream(tmp_path):
    root = tmp_path / "upstream"
    root.mkdir()
    files = {"a.bin": os.urandom(3000), "b.bin": os.urandom(4000)}
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / "PULP_MANIFEST").write_text(
        "".join(f"{name},{hashlib.sha256(data).hexdigest()},{len(data)}\n" for name, data in files.items()))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/PULP_MANIFEST", files
    server.shutdown()
    server.server_close()


def _task(api, response) -> dict:
    assert response.status_code == 202, response.text
    task = wait_done(api, response.json()["task"])
    assert task["state"] == "completed", task
    return task


def test_repair_then_reclaim(api, core_server, upstream):
    url, files = upstream
    name = f"core-{uuid.uuid4().hex[:8]}"
    repo = api.post(V3 + "repositories/file/file/", json={"name": name}).json()
    # An on_demand sync records where each file comes from; an immediate one then stores them.
    for policy in ("on_demand", "immediate"):
        remote = api.post(V3 + "remotes/file/file/", json={"name": f"{name}-{policy}", "url": url, "policy": policy})
        assert remote.status_code == 201, remote.text
        _task(api, api.post(repo["pulp_href"] + "sync/", json={"remote": remote.json()["pulp_href"]}))
    version = repo["pulp_href"] + "versions/1/"
    artifacts = api.get(V3 + "artifacts/", params={"repository_version": version}).json()["results"]
    by_sha = {a["sha256"]: a for a in artifacts}
    assert set(by_sha) == {hashlib.sha256(d).hexdigest() for d in files.values()}
    media = core_server.data_dir / "media"
    a_sha, b_sha = (hashlib.sha256(files[n]).hexdigest() for n in ("a.bin", "b.bin"))

    # Damage storage: one file corrupted, one gone.
    (media / by_sha[a_sha]["file"]).write_bytes(b"bit rot")
    (media / by_sha[b_sha]["file"]).unlink()
    task = _task(api, api.post(version + "repair/", json={"verify_checksums": True}))
    assert task["name"] == "pulpcore.app.tasks.repository.repair_version"
    reports = {r["code"]: r["done"] for r in task["progress_reports"]}
    assert reports == {"repair.missing": 1, "repair.corrupted": 1, "repair.repaired": 2}
    assert (media / by_sha[a_sha]["file"]).read_bytes() == files["a.bin"]
    assert (media / by_sha[b_sha]["file"]).read_bytes() == files["b.bin"]
    bad = api.post(version + "repair/", json={"verify_checksums": "perhaps"})
    assert bad.status_code == 400 and "verify_checksums" in bad.json()

    # Orphan cleanup leaves what a version uses.
    _task(api, api.post(V3 + "orphans/cleanup/", json={"orphan_protection_time": 0}))
    assert api.get(V3 + "artifacts/", params={"repository_version": version}).json()["count"] == 2

    # Reclaim with the only version kept: nothing goes.
    _task(api, api.post(V3 + "repositories/reclaim_space/",
                        json={"repo_hrefs": [repo["pulp_href"]], "repo_versions_keeplist": [version]}))
    assert api.get(V3 + "artifacts/", params={"repository_version": version}).json()["count"] == 2
    # Reclaim for real: files and artifact rows go, content stays (refetchable from the remote).
    task = _task(api, api.post(V3 + "repositories/reclaim_space/", json={"repo_hrefs": [repo["pulp_href"]]}))
    assert task["name"] == "pulpcore.app.tasks.reclaim_space.reclaim"
    assert task["reserved_resources_record"] == [repo["pulp_href"]]
    assert api.get(V3 + "artifacts/", params={"repository_version": version}).json()["count"] == 0
    for artifact in artifacts:
        assert api.get(artifact["pulp_href"]).status_code == 404
        assert not (media / artifact["file"]).exists()
    content = api.get(V3 + "content/file/files/", params={"repository_version": version}).json()
    assert content["count"] == 2
    assert all(c["artifact"] is None for c in content["results"])
