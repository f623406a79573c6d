"""`/v2/users/`: the same accounts as v3 (HTTP Basic), in the v2 shape."""

from __future__ import annotations

import re

from fastapi import Request
from sqlalchemy import func, select

from pulpwood.api.auth import forget_all
from pulpwood.api.deps import reading, writing
from pulpwood.api.v2.common import authed_router
from pulpwood.api.v2.errors import DuplicateResource, InvalidValue, MissingResource, MissingValue, PulpDataException
from pulpwood.api.v2.search import run_search
from pulpwood.api.v2.transport import json_body, oid, ok, v2_prefix
from pulpwood.models import User
from pulpwood.services.users import create_user, get_user, hash_password, random_password

router = authed_router()
LOGIN = re.compile(r"^[.@\-_A-Za-z0-9]+$")


def document(prefix: str, user: User) -> dict:
    ident = oid(user.id)
    return {"login": user.username, "name": user.first_name or user.username,
            "roles": ["super-users"] if user.is_superuser else [], "_ns": "users", "_id": ident,
            "id": ident["$oid"], "_href": f"{prefix}users/{user.username}/"}


async def _user(session, login: str) -> User:
    user = await get_user(session, login)
    if user is None:
        raise MissingResource(user=login)
    return user


@router.post("/users/")
async def create(request: Request):
    body = await json_body(request, empty_ok=False)
    login = body.get("login")
    if login is None:
        raise MissingValue(["login"])
    if not isinstance(login, str) or not LOGIN.fullmatch(login):
        raise InvalidValue(["login"])
    name, password = body.get("name"), body.get("password")
    for key, value in (("name", name), ("password", password)):
        if value is not None and not isinstance(value, str):
            raise InvalidValue([key])
    async with writing(request) as session:
        if await get_user(session, login) is not None:
            raise DuplicateResource(login)
        user = await create_user(session, login, password or random_password())
        user.first_name = name or login
        doc = document(v2_prefix(request), user)
    return ok(doc, 201, location=doc["_href"])


@router.get("/users/")
async def list_users(request: Request):
    async with reading(request) as session:
        return ok([document(v2_prefix(request), u) for u in await session.scalars(select(User).order_by(User.id))])


@router.api_route("/users/search/", methods=["GET", "POST"])
async def search(request: Request):
    async with reading(request) as session:
        docs = [document(v2_prefix(request), u) for u in await session.scalars(select(User).order_by(User.id))]
    return ok(await run_search(request, docs))


@router.get("/users/{login}/")
async def read(request: Request, login: str):
    async with reading(request) as session:
        return ok(document(v2_prefix(request), await _user(session, login)))


@router.put("/users/{login}/")
async def update(request: Request, login: str):
    body = await json_body(request)
    delta = body.get("delta")
    if not isinstance(delta, dict):
        raise MissingValue(["delta"])
    unknown = sorted(set(delta) - {"name", "password", "roles"})
    if unknown:
        raise InvalidValue(unknown)
    async with writing(request) as session:
        user = await _user(session, login)
        if "name" in delta:
            if not isinstance(delta["name"], str):
                raise InvalidValue(["name"])
            user.first_name = delta["name"]
        if "password" in delta:
            if not isinstance(delta["password"], str) or not delta["password"]:
                raise InvalidValue(["password"])
            user.password = hash_password(delta["password"])
            forget_all()
        if "roles" in delta:
            roles = delta["roles"]
            if not isinstance(roles, list) or any(r != "super-users" for r in roles):
                raise InvalidValue(["roles"])
            user.is_superuser = user.is_staff = "super-users" in roles
        return ok(document(v2_prefix(request), user))


@router.delete("/users/{login}/")
async def delete(request: Request, login: str):
    async with writing(request) as session:
        user = await _user(session, login)
        if user.is_superuser:
            supers = await session.scalar(select(func.count()).select_from(User).where(User.is_superuser.is_(True)))
            if supers <= 1:
                raise PulpDataException("The last super-user cannot be deleted.")
        await session.delete(user)
        forget_all()
    return ok(None)
