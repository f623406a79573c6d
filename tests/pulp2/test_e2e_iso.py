"""End to end: an iso_importer repository synced through v2 from a PULP_MANIFEST tree,
published by an iso_distributor and downloaded from /pulp/isos/<relative_url>/; the same
repository and its versions in v3."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.pulp2.upstreams import build_file_upstream, serve

FILES = {"one.iso": b"first image\n" * 100, "two.iso": b"second image\n" * 300, "sub/three.iso": b"3" * 5000}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    root = tmp_path_factory.mktemp("iso-upstream")
    digests = build_file_upstream(root / "feed", FILES)
    with serve(root) as url:
        yield url + "feed/", digests


def test_sync_publish_and_download(v2, v2server, upstream):
    feed, digests = upstream
    if v2.get("repositories/iso-e2e/").status_code == 200:
        v2.run(v2.delete("repositories/iso-e2e/"))
    assert v2.post("repositories/", {"id": "iso-e2e", "notes": {"_repo-type": "iso-repo"}}).status_code == 201
    importer = v2.post("repositories/iso-e2e/importers/", {"importer_type_id": "iso_importer",
                                                           "importer_config": {"feed": feed}})
    assert importer.status_code == 201, importer.text
    distributor = v2.post("repositories/iso-e2e/distributors/", {
        "distributor_type_id": "iso_distributor", "distributor_id": "iso-dist", "auto_publish": True,
        "distributor_config": {"relative_url": "isos/e2e", "serve_http": True}})
    assert distributor.status_code == 201, distributor.text
    sync, publish = v2.run(v2.post("repositories/iso-e2e/actions/sync/"))
    assert sync["state"] == "finished", sync["error"]
    assert publish["state"] == "finished", publish["error"]
    repo = v2.get("repositories/iso-e2e/", params={"details": "true"}).json()
    assert repo["content_unit_counts"] == {"iso": 3} and repo["total_repository_units"] == 3
    units = v2.post("repositories/iso-e2e/search/units/", {"criteria": {"fields": {"unit": ["name", "checksum"]}}})
    assert {u["metadata"]["name"]: u["metadata"]["checksum"] for u in units.json()} == digests
    for name, data in FILES.items():
        response = httpx.get(f"{v2server.base_url}/pulp/isos/isos/e2e/{name}")
        assert response.status_code == 200 and response.content == data
    manifest = httpx.get(f"{v2server.base_url}/pulp/isos/isos/e2e/PULP_MANIFEST").text
    assert sorted(line.split(",")[0] for line in manifest.split()) == sorted(FILES)
    assert f"two.iso,{hashlib.sha256(FILES['two.iso']).hexdigest()},{len(FILES['two.iso'])}" in manifest
    assert httpx.get(f"{v2server.base_url}/pulp/isos/isos/e2e/nothing.iso").status_code == 404
    v3 = v2server.client()
    found = v3.get("/pulp/api/v3/repositories/file/file/", params={"name": "iso-e2e"}).json()["results"]
    assert len(found) == 1 and found[0]["latest_version_href"].endswith("/versions/1/")
    publications = v3.get("/pulp/api/v3/publications/file/file/",
                          params={"repository_version": found[0]["latest_version_href"]}).json()["results"]
    assert publications


def test_missing_upstream_file_fails_the_sync(v2, tmp_path):
    digests = build_file_upstream(tmp_path / "feed", {"here.iso": b"here", "gone.iso": b"gone"})
    (tmp_path / "feed" / "gone.iso").unlink()
    with serve(tmp_path) as url:
        if v2.get("repositories/iso-broken/").status_code == 200:
            v2.run(v2.delete("repositories/iso-broken/"))
        assert v2.post("repositories/", {"id": "iso-broken", "importer_type_id": "iso_importer",
                                         "importer_config": {"feed": url + "feed/"}}).status_code == 201
        (task,) = v2.run(v2.post("repositories/iso-broken/actions/sync/"))
    assert task["state"] == "error" and task["error"]["description"] and task["traceback"]
    assert v2.get("repositories/iso-broken/").json()["content_unit_counts"] == {}
    history = v2.get("repositories/iso-broken/history/sync/").json()
    assert history[0]["result"] == "error" and history[0]["error_message"]
    assert digests
