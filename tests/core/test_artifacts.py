"""`artifacts/`: direct upload with digest checks, lists by digest, read, delete."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from tests.core.conftest import run_sql, wait_done

V3 = "/pulp/api/v3/"


def _upload(api, data: bytes, **fields):
    return api.post(V3 + "artifacts/", files={"file": ("blob.bin", data, "application/octet-stream")},
                    data={k: str(v) for k, v in fields.items()})


def test_create_computes_digests_and_stores_the_file(api, core_server):
    data = os.urandom(4096)
    sha256 = hashlib.sha256(data).hexdigest()
    response = _upload(api, data, sha256=sha256, sha512=hashlib.sha512(data).hexdigest(), size=len(data))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    artifact = response.json()
    assert artifact["sha256"] == sha256
    assert artifact["sha224"] == hashlib.sha224(data).hexdigest()
    assert artifact["sha384"] == hashlib.sha384(data).hexdigest()
    assert artifact["md5"] is None and artifact["sha1"] is None  # not in ALLOWED_CONTENT_CHECKSUMS
    assert artifact["size"] == 4096
    assert artifact["file"] == f"artifact/{sha256[:2]}/{sha256[2:]}"
    assert artifact["prn"] == "prn:core.artifact:" + artifact["pulp_href"].rstrip("/").rsplit("/", 1)[1]
    stored = core_server.data_dir / "media" / artifact["file"]
    assert stored.read_bytes() == data
    assert api.get(artifact["pulp_href"]).json() == artifact

    # The same bytes again: refused, naming the checksum; nothing written twice.
    again = _upload(api, data)
    assert again.status_code == 400
    assert again.json() == {"non_field_errors": [f"Artifact with sha256 checksum of '{sha256}' already exists."]}


@pytest.mark.parametrize("field", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
def test_wrong_digest_is_refused_naming_it(api, core_server, field):
    data = os.urandom(100)
    response = _upload(api, data, **{field: "0" * 32})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [f"The {field} checksum did not match."]}
    sha256 = hashlib.sha256(data).hexdigest()
    assert api.get(V3 + "artifacts/", params={"sha256": sha256}).json()["count"] == 0
    assert not (core_server.data_dir / "media" / f"artifact/{sha256[:2]}/{sha256[2:]}").exists()
    assert list((core_server.data_dir / "media" / "tmp").iterdir()) == []


def test_matching_md5_and_sha1_are_accepted_but_not_stored(api):
    data = os.urandom(64)
    response = _upload(api, data, md5=hashlib.md5(data).hexdigest(), sha1=hashlib.sha1(data).hexdigest())
    assert response.status_code == 201, response.text
    assert response.json()["md5"] is None


def test_bad_create_bodies(api):
    assert api.post(V3 + "artifacts/", data={"size": "3"}).json() == {"file": ["No file was submitted."]}
    assert api.post(V3 + "artifacts/", json={"file": "x"}).status_code == 400
    wrong_size = _upload(api, os.urandom(10), size=11)
    assert wrong_size.status_code == 400
    assert wrong_size.json() == {"non_field_errors": ["The size did not match actual size of file."]}
    not_a_number = _upload(api, os.urandom(10), size="ten")
    assert not_a_number.status_code == 400 and "size" in not_a_number.json()


def test_list_filters_and_pages(api):
    blobs = [os.urandom(32) for _ in range(3)]
    hrefs = [_upload(api, b).json()["pulp_href"] for b in blobs]
    page = api.get(V3 + "artifacts/", params={"sha256": hashlib.sha256(blobs[1]).hexdigest()}).json()
    assert page["count"] == 1 and page["results"][0]["pulp_href"] == hrefs[1]
    page = api.get(V3 + "artifacts/", params={"sha512": hashlib.sha512(blobs[2]).hexdigest(),
                                              "fields": "pulp_href,size"}).json()
    assert page["results"] == [{"pulp_href": hrefs[2], "size": 32}]
    assert api.get(V3 + "artifacts/", params={"pulp_href__in": ",".join(hrefs)}).json()["count"] == 3
    # Newest first; limit/offset with absolute next/previous links.
    first = api.get(V3 + "artifacts/", params={"limit": 1, "pulp_href__in": ",".join(hrefs)}).json()
    assert first["results"][0]["pulp_href"] == hrefs[2]
    assert first["next"].startswith("http://") and "offset=1" in first["next"] and first["previous"] is None
    second = api.get(first["next"]).json()
    assert second["results"][0]["pulp_href"] == hrefs[1]
    assert second["previous"] is not None and "offset" not in second["previous"]
    # Orphaned for 0 minutes: these are not used by any content.
    orphans = api.get(V3 + "artifacts/", params={"orphaned_for": 0, "pulp_href__in": ",".join(hrefs)}).json()
    assert orphans["count"] == 3
    fresh = api.get(V3 + "artifacts/", params={"orphaned_for": 60, "pulp_href__in": ",".join(hrefs)}).json()
    assert fresh["count"] == 0
    assert api.get(V3 + "artifacts/", params={"ordering": "-size", "limit": 1}).status_code == 200


@pytest.mark.parametrize("query", [
    {"foo": "bar"}, {"orphaned_for": "soon"}, {"repository_version": "/pulp/api/v3/nothing/"},
    {"ordering": "nonsense"}, {"pulp_href__in": "/not/an/href/"}, {"limit": "x"},
])
def test_bad_list_queries_are_400(api, query):
    response = api.get(V3 + "artifacts/", params=query)
    assert response.status_code == 400, response.text
    assert isinstance(response.json(), dict)


def test_unknown_artifact_is_404(api):
    assert api.get(V3 + f"artifacts/{uuid.uuid4()}/").status_code == 404
    assert api.get(V3 + "artifacts/not-a-uuid/").status_code == 404
    assert api.delete(V3 + f"artifacts/{uuid.uuid4()}/").status_code == 404


def test_delete_refused_while_content_uses_it_then_orphan_cleanup(api, core_server):
    data = os.urandom(256)
    artifact = _upload(api, data).json()
    artifact_id = artifact["pulp_href"].rstrip("/").rsplit("/", 1)[1]
    content_id, link_id = uuid.uuid4(), uuid.uuid4()
    # A content unit of no plugin type, made directly in the database, that uses the artifact.
    run_sql(core_server, [
        ("INSERT INTO core_content (pulp_id, pulp_created, pulp_last_updated, pulp_type, pulp_labels, "
         "timestamp_of_interest) VALUES (:id, '2020-01-01 00:00:00', '2020-01-01 00:00:00', 'core.testunit', '{}', "
         "'2020-01-01 00:00:00')", {"id": _uuid_param(core_server, content_id)}),
        ("INSERT INTO core_contentartifact (pulp_id, content_id, artifact_id, relative_path) VALUES "
         "(:id, :content, :artifact, 'unit.bin')",
         {"id": _uuid_param(core_server, link_id), "content": _uuid_param(core_server, content_id),
          "artifact": _uuid_param(core_server, uuid.UUID(artifact_id))}),
    ])
    refused = api.delete(artifact["pulp_href"])
    assert refused.status_code == 409
    assert "associated with Content" in refused.json()["detail"]
    assert api.get(artifact["pulp_href"]).status_code == 200

    cleanup = api.post(V3 + "orphans/cleanup/", json={"orphan_protection_time": 0})
    assert cleanup.status_code == 202
    task = wait_done(api, cleanup.json()["task"])
    assert task["state"] == "completed", task
    assert task["name"] == "pulpcore.app.tasks.orphan.orphan_cleanup"
    codes = {r["code"]: r for r in task["progress_reports"]}
    assert codes["clean-up.content"]["done"] >= 1
    assert api.get(artifact["pulp_href"]).status_code == 404
    assert not (core_server.data_dir / "media" / artifact["file"]).exists()
    left = run_sql(core_server, [("SELECT count(*) FROM core_content WHERE pulp_type = 'core.testunit'", {})])
    assert left[0][0][0] == 0


def test_delete_unused_artifact(api, core_server):
    artifact = _upload(api, os.urandom(77)).json()
    assert api.delete(artifact["pulp_href"]).status_code == 204
    assert api.get(artifact["pulp_href"]).status_code == 404
    assert not (core_server.data_dir / "media" / artifact["file"]).exists()


def _uuid_param(server, value: uuid.UUID):
    # SQLAlchemy's Uuid type stores 32 hex digits on SQLite and a native uuid on PostgreSQL.
    return value if server.env.get("PULP_DATABASE_URL") else value.hex
