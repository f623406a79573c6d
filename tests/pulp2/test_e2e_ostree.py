"""End to end: an ostree_web_importer repository synced through v2 from a real upstream,
published by an ostree_web_distributor and pulled with the real `ostree` client from
/pulp/ostree/web/<relative_path>/; the same repository and its versions in v3."""

from __future__ import annotations

import pytest

from tests.pulp2.upstreams import build_ostree_upstream, ostree, serve


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    root = tmp_path_factory.mktemp("ostree-upstream")
    heads = build_ostree_upstream(root)
    with serve(root) as url:
        yield url + "repo/", heads


def test_sync_publish_and_pull(v2, v2server, upstream, tmp_path):
    feed, heads = upstream
    if v2.get("repositories/ostree-e2e/").status_code == 200:
        v2.run(v2.delete("repositories/ostree-e2e/"))
    created = v2.post("repositories/", {
        "id": "ostree-e2e", "notes": {"_repo-type": "OSTREE"},
        "importer_type_id": "ostree_web_importer",
        "importer_config": {"feed": feed, "branches": ["fedora/stable", "rawhide"], "depth": 0,
                            "ssl_validation": False, "proxy_password": None},
        "distributors": [{"distributor_type_id": "ostree_web_distributor",
                          "distributor_id": "ostree_web_distributor_name_cli",
                          "distributor_config": {"relative_path": "/atomic/e2e/"}, "auto_publish": False}]})
    assert created.status_code == 201, created.text
    (sync,) = v2.run(v2.post("repositories/ostree-e2e/actions/sync/"))
    assert sync["state"] == "finished", sync["error"]
    assert sync["result"]["added_count"] == 2
    assert "ostree_web_importer" in sync["progress_report"]
    repo = v2.get("repositories/ostree-e2e/", params={"details": "true"}).json()
    assert repo["content_unit_counts"] == {"ostree": 2}
    assert repo["distributors"][0]["last_publish"] is None
    units = v2.post("repositories/ostree-e2e/search/units/", {"criteria": {"type_ids": ["ostree"]}}).json()
    assert {u["metadata"]["branch"]: u["metadata"]["commit"] for u in units} == heads
    (publish,) = v2.run(v2.post("repositories/ostree-e2e/actions/publish/",
                                {"id": "ostree_web_distributor_name_cli"}))
    assert publish["state"] == "finished", publish["error"]
    served = f"{v2server.base_url}/pulp/ostree/web/atomic/e2e/"
    client = tmp_path / "client"
    ostree("init", f"--repo={client}", "--mode=archive")
    ostree("remote", "add", f"--repo={client}", "--no-gpg-verify", "pulp", served)
    for ref, head in heads.items():
        ostree("pull", f"--repo={client}", "pulp", ref)
        assert ostree("rev-parse", f"--repo={client}", f"pulp:{ref}") == head
    ostree("fsck", f"--repo={client}")
    v3 = v2server.client()
    found = v3.get("/pulp/api/v3/repositories/ostree/ostree/", params={"name": "ostree-e2e"}).json()["results"]
    assert len(found) == 1 and found[0]["latest_version_href"].endswith("/versions/1/")
    distribution = v3.get("/pulp/api/v3/distributions/ostree/ostree/",
                          params={"base_path": "pulp2/ostree/atomic/e2e"}).json()["results"]
    assert distribution and distribution[0]["repository_version"] == found[0]["latest_version_href"]


def test_copy_one_unit_by_id_then_publish_and_pull(v2, v2server, upstream, tmp_path):
    feed, heads = upstream
    if v2.get("repositories/ostree-e2e/").status_code != 200:
        pytest.skip("needs the synced repository of the test above")
    if v2.get("repositories/ostree-copy/").status_code == 200:
        v2.run(v2.delete("repositories/ostree-copy/"))
    created = v2.post("repositories/", {
        "id": "ostree-copy", "importer_type_id": "ostree_web_importer", "importer_config": {"feed": feed},
        "distributors": [{"distributor_type_id": "ostree_web_distributor", "distributor_id": "web",
                          "distributor_config": {"relative_path": "copy/e2e"}, "auto_publish": False}]})
    assert created.status_code == 201, created.text
    units = v2.post("repositories/ostree-e2e/search/units/", {"criteria": {"filters": {"unit": {"branch": "rawhide"}}}})
    (unit,) = units.json()
    (copy,) = v2.run(v2.post("repositories/ostree-copy/actions/associate/", {
        "source_repo_id": "ostree-e2e",
        "criteria": {"type_ids": ["ostree"], "filters": {"unit": {"_id": unit["metadata"]["_id"]}}}}))
    assert copy["state"] == "finished", copy["error"]
    assert copy["result"]["units_successful"][0]["unit_key"]["branch"] == "rawhide"
    copied = v2.post("repositories/ostree-copy/search/units/", {"criteria": {}}).json()
    assert [u["metadata"]["_id"] for u in copied] == [unit["metadata"]["_id"]]
    (publish,) = v2.run(v2.post("repositories/ostree-copy/actions/publish/", {"id": "web"}))
    assert publish["state"] == "finished", publish["error"]
    client = tmp_path / "client"
    ostree("init", f"--repo={client}", "--mode=archive")
    ostree("remote", "add", f"--repo={client}", "--no-gpg-verify", "pulp",
           f"{v2server.base_url}/pulp/ostree/web/copy/e2e/")
    ostree("pull", f"--repo={client}", "pulp", "rawhide")
    assert ostree("rev-parse", f"--repo={client}", "pulp:rawhide") == heads["rawhide"]
    ostree("fsck", f"--repo={client}")
    assert "fedora/stable" not in ostree("remote", "refs", f"--repo={client}", "pulp")
