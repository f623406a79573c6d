"""ISO upload: request an upload, PUT segments at offsets, import_upload into an iso
repository, publish and download from /pulp/isos/; bad uploads fail clearly."""

from __future__ import annotations

import hashlib

import httpx

from tests.pulp2.conftest import assert_v2_error

DATA = bytes(range(256)) * 1000  # 256 000 bytes, sent as two segments


def _upload(v2, data: bytes) -> str:
    created = v2.post("content/uploads/")
    assert created.status_code == 201, created.text
    upload_id = created.json()["upload_id"]
    assert created.headers["location"].endswith(f"/content/uploads/{upload_id}/")
    half = len(data) // 2
    for offset, segment in ((half, data[half:]), (0, data[:half])):
        response = v2.http.put(v2.url(f"content/uploads/{upload_id}/{offset}/"), content=segment)
        assert response.status_code == 200 and response.json() is None
    return upload_id


def test_upload_import_publish_download(v2, v2server):
    if v2.get("repositories/iso-upload/").status_code == 200:
        v2.run(v2.delete("repositories/iso-upload/"))
    v2.post("repositories/", {"id": "iso-upload", "importer_type_id": "iso_importer",
                              "distributors": [{"distributor_type_id": "iso_distributor", "distributor_id": "d",
                                                "distributor_config": {"relative_url": "iso-upload"}}]})
    upload_id = _upload(v2, DATA)
    assert upload_id in v2.get("content/uploads/").json()["upload_ids"]
    key = {"name": "image.iso", "checksum": hashlib.sha256(DATA).hexdigest(), "size": len(DATA)}
    (task,) = v2.run(v2.post("repositories/iso-upload/actions/import_upload/",
                             {"upload_id": upload_id, "unit_type_id": "iso", "unit_key": key}))
    assert task["state"] == "finished" and task["result"]["success_flag"] is True
    assert set(task["tags"]) == {"pulp:repository:iso-upload", "pulp:action:import_upload"}
    units = v2.post("repositories/iso-upload/search/units/", {"criteria": {}}).json()
    assert [(u["metadata"]["name"], u["metadata"]["checksum"], u["metadata"]["size"]) for u in units] == [
        ("image.iso", key["checksum"], len(DATA))]
    v2.run(v2.post("repositories/iso-upload/actions/publish/", {"id": "d"}))
    assert httpx.get(f"{v2server.base_url}/pulp/isos/iso-upload/image.iso").content == DATA
    assert v2.delete(f"content/uploads/{upload_id}/").status_code == 200
    assert_v2_error(v2.delete(f"content/uploads/{upload_id}/"), 404, "PLP0009")


def test_bad_uploads(v2):
    upload_id = _upload(v2, b"abc")
    assert_v2_error(v2.http.put(v2.url(f"content/uploads/{upload_id}/minus/"), content=b"x"), 400, "PLP0015")
    assert_v2_error(v2.http.put(v2.url("content/uploads/nope/0/"), content=b"x"), 404, "PLP0009")
    assert_v2_error(v2.post("repositories/iso-upload/actions/import_upload/", {"upload_id": upload_id}), 400,
                    "PLP0016")
    assert_v2_error(v2.post("repositories/ghost/actions/import_upload/",
                            {"upload_id": upload_id, "unit_type_id": "iso", "unit_key": {}}), 404, "PLP0009")
    wrong = {"name": "abc.iso", "checksum": "0" * 64, "size": 3}
    (task,) = v2.run(v2.post("repositories/iso-upload/actions/import_upload/",
                             {"upload_id": upload_id, "unit_type_id": "iso", "unit_key": wrong}))
    assert task["state"] == "error" and task["error"]["code"] == "PLP0047"
    names = [u["metadata"]["name"] for u in v2.post("repositories/iso-upload/search/units/", {"criteria": {}}).json()]
    assert "abc.iso" not in names
