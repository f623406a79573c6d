"""Typed ("master/detail") resources: one router factory for CRUD + labels of any model.

Repositories, remotes, distributions, publications and content of every plugin share the
same verbs, codes and error shapes; each kind only says how a body becomes column values
and how objects become JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from pulpwood import hrefs
from pulpwood.api import listing
from pulpwood.api.body import read_body
from pulpwood.api.deps import reading, require_user, writing
from pulpwood.api.dispatching import dispatch_from_request
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse, no_content
from pulpwood.api.v3.common import check_labels, get_object
from pulpwood.api.validation import Body, validate
from pulpwood.errors import ValidationError
from pulpwood.services.tasks import GENERAL_CREATE, GENERAL_DELETE, GENERAL_UPDATE, model_path, to_json_values

Serializer = Callable[[Any, list], Awaitable[list[dict]]]
# (session, validated body, existing object or None) -> column values to write
Columns = Callable[[Any, Body, Any], Awaitable[dict[str, Any]]]


@dataclass
class TypedResource:
    model: type
    body: type[Body] | None
    serialize: Serializer
    columns: Columns | None
    filters: FilterSet
    create_mode: str = "sync"  # "sync" -> 201 object, "task" -> 202 general_create, None -> no create
    update_mode: str | None = "task"  # "sync" -> 200, "task" -> 200 unchanged or 202, None -> read-only
    delete_mode: str | None = "task"  # "sync" -> 204, "task" -> 202, None -> not deletable
    unique_fields: tuple[str, ...] = ("name",)
    labels: bool = True
    # Called after a synchronous create, inside its transaction (e.g. repository version 0).
    after_create: Callable[[Any, Any], Awaitable[None]] | None = None
    # Checks needing the database, run before writing (e.g. overlapping base paths).
    check: Callable[[Any, dict, Any], Awaitable[None]] | None = None
    locks: Callable[[Any], list[str]] = field(default=lambda obj: [hrefs.href(obj)])

    @property
    def path(self) -> str:
        return "/" + self.model.__href_path__


async def _check_unique(session, resource: TypedResource, values: dict, current) -> None:
    base = resource.model.__mro__[1] if hasattr(resource.model.__mro__[1], "__table__") else resource.model
    for name in resource.unique_fields:
        if name not in values:
            continue
        column = getattr(base, name)
        stmt = select(base.pulp_id).where(column == values[name])
        if current is not None:
            stmt = stmt.where(base.pulp_id != current.pulp_id)
        if await session.scalar(stmt.limit(1)) is not None:
            raise ValidationError({name: ["This field must be unique."]})


def current_values(obj, body: type[Body]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in body.model_fields if hasattr(obj, name)}


def typed_router(resource: TypedResource) -> APIRouter:
    router = APIRouter(dependencies=[Depends(require_user)])
    path, model = resource.path, resource.model

    async def serialize_one(session, obj, request: Request | None = None) -> dict:
        item = (await resource.serialize(session, [obj]))[0]
        return listing.trim_fields(item, request) if request is not None else item

    @router.get(path)
    async def list_objects(request: Request) -> JSONResponse:
        async with reading(request) as session:
            stmt = resource.filters.apply(select(model), request)
            return await paginate(session, request, stmt, resource.serialize)

    @router.get(path + "{pk}/")
    async def read_object(pk: str, request: Request) -> JSONResponse:
        async with reading(request) as session:
            obj = await get_object(session, model, pk)
            return JSONResponse(await serialize_one(session, obj, request))

    if resource.create_mode:
        @router.post(path)
        async def create_object(request: Request) -> JSONResponse:
            body = validate(resource.body, await read_body(request))
            if resource.create_mode == "task":
                async with reading(request) as session:
                    values = await resource.columns(session, body, None)
                    await _check_unique(session, resource, values, None)
                    if resource.check:
                        await resource.check(session, values, None)
                return await dispatch_from_request(
                    request, GENERAL_CREATE, immediate=True,
                    kwargs={"model": model_path(model), "data": to_json_values(model, values)},
                    exclusive=[f"{hrefs.collection_href(model)}"],
                )
            async with writing(request) as session:
                values = await resource.columns(session, body, None)
                await _check_unique(session, resource, values, None)
                if resource.check:
                    await resource.check(session, values, None)
                obj = model(**values)
                session.add(obj)
                await session.flush()
                if resource.after_create:
                    await resource.after_create(session, obj)
                data = await serialize_one(session, obj)
            return JSONResponse(data, status_code=201)

    if resource.update_mode:
        async def update_object(pk: str, request: Request, partial: bool) -> JSONResponse:
            raw = await read_body(request)
            async with writing(request) as session:
                obj = await get_object(session, model, pk)
                body = validate(resource.body, raw, base=current_values(obj, resource.body) if partial else None)
                values = await resource.columns(session, body, obj)
                if partial:
                    values = {k: v for k, v in values.items() if k in _sent_columns(body, values)}
                changed = {k: v for k, v in values.items() if getattr(obj, k, None) != v}
                await _check_unique(session, resource, changed, obj)
                if resource.check and changed:
                    await resource.check(session, {**current_values(obj, resource.body), **changed}, obj)
                if not changed:
                    return JSONResponse(await serialize_one(session, obj))
                if resource.update_mode == "sync":
                    for key, value in changed.items():
                        setattr(obj, key, value)
                    await session.flush()
                    return JSONResponse(await serialize_one(session, obj))
                locks = resource.locks(obj)
            return await dispatch_from_request(
                request, GENERAL_UPDATE, immediate=True,
                kwargs={"model": model_path(model), "pk": str(obj.pulp_id), "data": to_json_values(model, changed)},
                exclusive=locks,
            )

        @router.put(path + "{pk}/")
        async def put_object(pk: str, request: Request) -> JSONResponse:
            return await update_object(pk, request, partial=False)

        @router.patch(path + "{pk}/")
        async def patch_object(pk: str, request: Request) -> JSONResponse:
            return await update_object(pk, request, partial=True)

    if resource.delete_mode:
        @router.delete(path + "{pk}/")
        async def delete_object(pk: str, request: Request):
            async with writing(request) as session:
                obj = await get_object(session, model, pk)
                if resource.delete_mode == "sync":
                    await session.delete(obj)
                    return no_content()
                locks = resource.locks(obj)
            return await dispatch_from_request(
                request, GENERAL_DELETE, immediate=True,
                kwargs={"model": model_path(model), "pk": str(obj.pulp_id)}, exclusive=locks,
            )

    if resource.labels:
        @router.post(path + "{pk}/set_label/")
        async def set_label(pk: str, request: Request) -> JSONResponse:
            body = await read_body(request)
            key, value = body.get("key"), body.get("value")
            if not key:
                raise ValidationError({"key": ["This field is required."]})
            check_labels({key: value})
            async with writing(request) as session:
                obj = await get_object(session, model, pk)
                obj.pulp_labels = {**(obj.pulp_labels or {}), key: value}
            return JSONResponse({"key": key, "value": value}, status_code=201)

        @router.post(path + "{pk}/unset_label/")
        async def unset_label(pk: str, request: Request) -> JSONResponse:
            body = await read_body(request)
            key = body.get("key")
            if not key:
                raise ValidationError({"key": ["This field is required."]})
            async with writing(request) as session:
                obj = await get_object(session, model, pk)
                labels = dict(obj.pulp_labels or {})
                if key not in labels:
                    raise ValidationError({"key": [f"Label '{key}' is not set on this object."]})
                value = labels.pop(key)
                obj.pulp_labels = labels
            return JSONResponse({"key": key, "value": value}, status_code=201)

    return router


def _sent_columns(body: Body, values: dict) -> set[str]:
    """Column names that came from fields the client actually sent in a PATCH."""
    sent = set(body.model_fields_set)
    aliases = getattr(body, "column_aliases", {})
    return {aliases.get(name, name) for name in sent} | {k for k in values if k in sent}
