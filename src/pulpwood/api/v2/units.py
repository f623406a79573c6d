"""v2 units over core content, and unit association criteria evaluated with a Mongo matcher.

A v2 unit is built from the core content of a repository's latest version:
- `iso`: a FileContent (name = relative path, checksum = sha256, size);
- `harness_type_one`: a FileContent of a harness repository (name from the file name);
- `ostree`: an OstreeRef (branch) with its commit; remote_id = sha256 of the importer feed.
`_id` is the core content's pulp_id, so it is stable and usable in copy/remove criteria.
"""

from __future__ import annotations

import hashlib
import uuid

from mongoquery import Query, QueryError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.api.v2.errors import InvalidValue
from pulpwood.api.v2.transport import timestamp
from pulpwood.models import Artifact, ContentArtifact, RepositoryContent
from pulpwood.models.pulp2 import V2Repository
from pulpwood.queries.versions import latest_version, present_in

CRITERIA_KEYS = {"type_ids", "filters", "sort", "limit", "skip", "fields", "remove_duplicates"}


def _criteria_error(name: str, message: str) -> InvalidValue:
    inner = InvalidValue([name], message=message)
    return InvalidValue(["criteria"], sub_errors=[inner])


def check_criteria(criteria) -> dict:
    """Validate unit association criteria; 400 InvalidValue(criteria) naming the bad part."""
    if criteria is None:
        return {}
    if not isinstance(criteria, dict):
        raise _criteria_error("criteria", "criteria must be an object")
    unknown = sorted(set(criteria) - CRITERIA_KEYS)
    if unknown:
        raise _criteria_error(unknown[0], f"Invalid properties: {unknown!r}")
    type_ids = criteria.get("type_ids")
    if isinstance(type_ids, str):
        criteria = {**criteria, "type_ids": [type_ids]}
    elif type_ids is not None and not (isinstance(type_ids, list) and all(isinstance(t, str) for t in type_ids)):
        raise _criteria_error("type_ids", "type_ids must be a list of strings")
    for key in ("filters", "sort", "fields"):
        value = criteria.get(key)
        if value is None:
            continue
        if not isinstance(value, dict) or set(value) - {"unit", "association"}:
            raise _criteria_error(key, f"{key} must be an object with the keys unit and association")
    for part in ("unit", "association"):
        flt = (criteria.get("filters") or {}).get(part)
        if flt is not None:
            if not isinstance(flt, dict):
                raise _criteria_error("filters", "filters must be Mongo query documents")
            try:
                Query(flt).match({})
            except (QueryError, TypeError, ValueError, AttributeError) as exc:
                raise _criteria_error("filters", f"Invalid filter: {exc}") from None
        sort = (criteria.get("sort") or {}).get(part)
        if sort is not None and not (isinstance(sort, list) and all(
                isinstance(s, list) and len(s) == 2 and isinstance(s[0], str)
                and s[1] in ("ascending", "descending", 1, -1) for s in sort)):
            raise _criteria_error("sort", "sort must be a list of [field, direction] pairs")
        fields = (criteria.get("fields") or {}).get(part)
        if fields is not None and not (isinstance(fields, list) and all(isinstance(f, str) for f in fields)):
            raise _criteria_error("fields", "fields must be a list of strings")
    for key, minimum in (("limit", 1), ("skip", 0)):
        value = criteria.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            raise _criteria_error(key, f"{key} must be an integer >= {minimum}")
    return criteria


async def repo_units(session: AsyncSession, repo: V2Repository, feed: str | None = None) -> list[dict]:
    """Association records (with the unit as `metadata`) of the repository's latest version."""
    if repo.repository_id is None:
        return []
    latest = await latest_version(session, repo.repository_id)
    if latest is None:
        return []
    rc = RepositoryContent
    membership = present_in(repo.repository_id, latest.number)
    records: list[dict] = []
    if repo.unit_type == "ostree":
        from sqlalchemy.orm import aliased

        from pulpwood_ostree.models import OstreeCommit, OstreeRef

        OstreeCommit = aliased(OstreeCommit, flat=True)  # both are Content: keep the joins apart
        rows = await session.execute(
            select(OstreeRef.pulp_id, OstreeRef.name, OstreeCommit.checksum, OstreeRef.pulp_created,
                   OstreeRef.pulp_last_updated, rc.version_added)
            .join(rc, rc.content_id == OstreeRef.pulp_id).join(OstreeCommit, OstreeCommit.pulp_id == OstreeRef.commit_id)
            .where(membership))
        remote_id = hashlib.sha256((feed or "").encode()).hexdigest()
        for pulp_id, name, checksum, created, updated, _ in rows.all():
            records.append(_record(repo, pulp_id, "ostree", created, updated, {
                "remote_id": remote_id, "branch": name, "commit": checksum, "metadata": {"version": None}}))
    else:
        from pulpwood_file.models import FileContent

        rows = await session.execute(
            select(FileContent.pulp_id, FileContent.relative_path, FileContent.digest, Artifact.size,
                   FileContent.pulp_created, FileContent.pulp_last_updated)
            .join(rc, rc.content_id == FileContent.pulp_id)
            .outerjoin(ContentArtifact, ContentArtifact.content_id == FileContent.pulp_id)
            .outerjoin(Artifact, Artifact.pulp_id == ContentArtifact.artifact_id)
            .where(membership))
        for pulp_id, path, digest, size, created, updated in rows.all():
            if repo.unit_type == "harness_type_one":
                name = path.rsplit("/", 1)[-1].removesuffix(".unit")
                index = name.rsplit("_", 1)[-1]
                unit = {"name": name, "search_1": f"value_{index}",
                        "search_2": f"value_{int(index) % 5}" if index.isdigit() else None,
                        "_storage_path": path}
            else:
                unit = {"name": path, "checksum": digest, "size": size}
            records.append(_record(repo, pulp_id, repo.unit_type or "iso", created, updated, unit))
    return records


def _record(repo: V2Repository, unit_id: uuid.UUID, type_id: str, created, updated, unit: dict) -> dict:
    metadata = {"_id": str(unit_id), "_content_type_id": type_id, "_ns": f"units_{type_id}",
                "_last_updated": int(updated.timestamp()), "pulp_user_metadata": {}, "downloaded": True, **unit}
    association_id = hashlib.sha256(f"{repo.repo_id}:{unit_id}".encode()).hexdigest()[:24]
    return {"_id": {"$oid": association_id}, "id": association_id, "_ns": "repo_content_units",
            "repo_id": repo.repo_id, "unit_id": str(unit_id), "unit_type_id": type_id,
            "created": timestamp(created), "updated": timestamp(updated), "metadata": metadata}


def _sort(records: list[dict], spec: list, key_of) -> list[dict]:
    for field, direction in reversed(spec):
        reverse = direction in ("descending", -1)
        records = sorted(records, key=lambda r: (key_of(r).get(field) is None, str(key_of(r).get(field))),
                         reverse=reverse)
    return records


def select_units(records: list[dict], criteria: dict) -> list[dict]:
    """Apply type_ids, filters, sort, skip, limit and fields to association records."""
    type_ids = criteria.get("type_ids")
    if type_ids:
        records = [r for r in records if r["unit_type_id"] in type_ids]
    filters = criteria.get("filters") or {}
    try:
        if filters.get("unit"):
            query = Query(filters["unit"])
            records = [r for r in records if query.match(r["metadata"])]
        if filters.get("association"):
            query = Query(filters["association"])
            records = [r for r in records if query.match({k: v for k, v in r.items() if k != "metadata"})]
    except (QueryError, TypeError, ValueError, AttributeError) as exc:
        raise _criteria_error("filters", f"Invalid filter: {exc}") from None
    sort = criteria.get("sort") or {}
    records = _sort(records, [["_id", "ascending"]], lambda r: r["metadata"])
    if sort.get("unit"):
        records = _sort(records, sort["unit"], lambda r: r["metadata"])
    if sort.get("association"):
        records = _sort(records, sort["association"], lambda r: r)
    skip, limit = criteria.get("skip") or 0, criteria.get("limit")
    records = records[skip:skip + limit if limit else None]
    fields = criteria.get("fields") or {}
    if fields.get("unit"):
        keep = set(fields["unit"]) | {"_id", "_content_type_id"}
        records = [{**r, "metadata": {k: v for k, v in r["metadata"].items() if k in keep}} for r in records]
    if fields.get("association"):
        keep = set(fields["association"]) | {"unit_id", "unit_type_id", "metadata", "_id", "id"}
        records = [{k: v for k, v in r.items() if k in keep} for r in records]
    return records


def unit_key(record: dict) -> dict:
    metadata = record["metadata"]
    keys = {"ostree": ("remote_id", "branch", "commit"), "iso": ("name", "checksum", "size"),
            "harness_type_one": ("name",)}.get(record["unit_type_id"], ("name",))
    return {k: metadata.get(k) for k in keys}
