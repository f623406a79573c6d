"""Request-scoped helpers shared by every router: runtime, caller, correlation id."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Request

from pulpwood.api.auth import authenticate
from pulpwood.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


async def require_user(request: Request) -> int:
    """FastAPI dependency: authenticate the caller (401 otherwise) and remember who it is."""
    runtime = runtime_of(request)
    async with runtime.read_session() as session:
        user_id, is_superuser = await authenticate(request, session)
    request.state.user_id = user_id
    request.state.is_superuser = is_superuser
    return user_id


def correlation_id(request: Request) -> str:
    return request.scope.get("pulp_cid", "")


def user_id(request: Request) -> int | None:
    return getattr(request.state, "user_id", None)


@asynccontextmanager
async def writing(request: Request):
    """A write session whose transaction commits when the handler's block succeeds."""
    async with runtime_of(request).write_session() as session:
        async with session.begin():
            yield session


@asynccontextmanager
async def reading(request: Request):
    async with runtime_of(request).read_session() as session:
        yield session
