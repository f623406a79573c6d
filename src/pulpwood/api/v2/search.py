"""Standard criteria searches (`…/search/`) evaluated over rendered documents."""

from __future__ import annotations

import json

from fastapi import Request
from mongoquery import Query, QueryError

from pulpwood.api.v2.errors import InvalidValue, MissingValue
from pulpwood.api.v2.transport import json_body

KEYS = {"filters", "sort", "limit", "skip", "fields"}


def _bad(name: str) -> InvalidValue:
    return InvalidValue(["criteria"], sub_errors=[InvalidValue([name])])


async def read_criteria(request: Request) -> dict:
    if request.method == "POST":
        body = await json_body(request)
        if "criteria" not in body:
            raise MissingValue(["criteria"])
        criteria = body["criteria"]
        if not isinstance(criteria, dict):
            raise InvalidValue(["criteria"])
        return criteria
    params = request.query_params
    criteria: dict = {}
    for key in ("filters", "sort"):
        if key in params:
            try:
                criteria[key] = json.loads(params[key])
            except ValueError:
                raise _bad(key) from None
    for key in ("limit", "skip"):
        if key in params:
            if not params[key].lstrip("-").isdigit():
                raise _bad(key)
            criteria[key] = int(params[key])
    fields = params.getlist("field")
    if fields:
        criteria["fields"] = fields
    return criteria


def apply_criteria(documents: list[dict], criteria: dict, always: tuple[str, ...] = ("_id", "id", "_href")) -> list:
    unknown = sorted(set(criteria) - KEYS)
    if unknown:
        raise InvalidValue(unknown)
    filters = criteria.get("filters")
    if filters is not None:
        if not isinstance(filters, dict):
            raise _bad("filters")
        try:
            query = Query(filters)
            documents = [d for d in documents if query.match(d)]
        except (QueryError, TypeError, ValueError, AttributeError):
            raise _bad("filters") from None
    sort = criteria.get("sort")
    if sort is not None:
        if not isinstance(sort, list) or not all(isinstance(s, list) and len(s) == 2 and isinstance(s[0], str)
                                                 for s in sort):
            raise _bad("sort")
        for field, direction in reversed(sort):
            path = field.split(".")

            def key(doc, path=path):
                value = doc
                for part in path:
                    value = value.get(part) if isinstance(value, dict) else None
                return (value is None, str(value))

            documents = sorted(documents, key=key, reverse=direction in ("descending", -1))
    skip, limit = criteria.get("skip"), criteria.get("limit")
    for name, value, minimum in (("skip", skip, 0), ("limit", limit, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            raise _bad(name)
    documents = documents[skip or 0:]
    if limit:
        documents = documents[:limit]
    fields = criteria.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise _bad("fields")
        keep = set(fields) | set(always)
        documents = [{k: v for k, v in d.items() if k in keep} for d in documents]
    return documents


async def run_search(request: Request, documents: list[dict], always=("_id", "id", "_href")) -> list[dict]:
    return apply_criteria(documents, await read_criteria(request), always)
