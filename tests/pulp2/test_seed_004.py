"""Golden test: every request of seed 004, sent exactly as written (bytes of the sample body,
trailing comma included), answered with the seed's status and body field by field."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

SEED = Path(__file__).with_name("seed_004.txt")
# Fields the server generates: compared by shape, not value.
GENERATED = {"_id"}


@dataclass
class Sample:
    title: str
    method: str
    path: str
    status: int
    request: str
    response: dict


def _block(text: str, marker: str) -> str:
    """The indented literal block after `marker::`."""
    start = text.index(marker) + len(marker)
    lines = text[start:].split("\n")
    out = []
    for line in lines[1:]:
        if line.strip() == "" and not out:
            continue
        if line and not line.startswith(" "):
            break
        out.append(line)
    return "\n".join(out).strip("\n")


def samples() -> list[Sample]:
    text = SEED.read_text()
    sections = re.split(r"\n(?=[^\n]+\n=+\n)", "\n" + text)
    found = []
    for section in sections:
        section = section.strip("\n")
        if not section:
            continue
        title = section.split("\n", 1)[0]
        method = re.search(r"\*\*method:\*\* (\w+)", section)[1]
        path = re.search(r"\*\*path:\*\* (\S+)", section)[1]
        status = int(re.search(r"\*\*success response:\*\* (\d+)", section)[1])
        found.append(Sample(title, method, path, status, _block(section, "Sample request body::"),
                            json.loads(_block(section, "Sample response body::"))))
    return found


def test_the_seed_has_its_four_samples():
    assert [s.title for s in samples()] == [
        "Create a Repository", "Update a Repository", "Associate an Importer to a Repository",
        "Associate a Distributor with a Repository"]


def test_every_seed_request_answers_as_written(v2):
    repo_id = None
    for sample in samples():
        if repo_id is None:
            repo_id = json.loads(sample.request)["id"]
            # Fresh server state for the seed's fixed id (a rerun against the same server).
            v2.run(v2.delete(f"repositories/{repo_id}/")) if v2.get(f"repositories/{repo_id}/").status_code == 200 \
                else None
        path = sample.path.replace("<repo_id>", repo_id).removeprefix("/v2/")
        response = v2.http.request(sample.method, v2.url(path), content=sample.request.encode(),
                                   headers={"Content-Type": "application/json"})
        assert response.status_code == sample.status, (sample.title, response.text)
        body = response.json()
        for key, expected in sample.response.items():
            assert key in body, (sample.title, key, body)
            if key in GENERATED:
                assert isinstance(body[key], str) and body[key], (sample.title, key, body[key])
                if key == "_id" and expected != repo_id:
                    uuid.UUID(body[key])
                else:
                    assert body[key] == expected
                continue
            assert body[key] == expected, (sample.title, key, body[key], expected)
        if sample.status == 201:
            assert response.headers["location"].endswith(body["_href"])


def test_seed_state_is_readable_back(v2):
    repo = v2.get("repositories/harness_repo_1/", params={"details": "true"}).json()
    assert repo["display_name"] == "Updated"
    assert [i["config"] for i in repo["importers"]] == [{"num_units": "5", "write_files": "true"}]
    assert [(d["id"], d["auto_publish"], d["config"]) for d in repo["distributors"]] == [
        ("dist_1", False, {"publish_dir": "/tmp/harness-publish", "write_files": "true"})]
    importer = v2.get("repositories/harness_repo_1/importers/harness_importer/").json()
    assert importer["_ns"] == "gc_repo_importers" and importer["last_sync"] is None
    distributor = v2.get("repositories/harness_repo_1/distributors/dist_1/").json()
    assert distributor["_ns"] == "gc_repo_distributors" and distributor["last_publish"] is None
