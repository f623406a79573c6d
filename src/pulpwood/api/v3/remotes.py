"""Remotes: the common fields (secrets write-only), the generic list."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field, field_validator
from sqlalchemy import select
from urllib.parse import urlsplit

from pulpwood.api import listing
from pulpwood.api.deps import reading, require_user
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse
from pulpwood.api.v3.common import base_fields, check_labels
from pulpwood.api.validation import Body
from pulpwood.errors import ValidationError
from pulpwood.models import Remote
from pulpwood.models.remote import SECRET_FIELDS

router = APIRouter(dependencies=[Depends(require_user)])
PEM_FIELDS = ("ca_cert", "client_cert", "client_key")


class RemoteBody(Body):
    name: str
    url: str
    pulp_labels: dict[str, str | None] = {}
    policy: Literal["immediate", "on_demand", "streamed"] = "immediate"
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    tls_validation: bool = True
    proxy_url: str | None = None
    proxy_username: str | None = None
    proxy_password: str | None = None
    username: str | None = None
    password: str | None = None
    max_retries: int | None = Field(default=None, ge=0)
    total_timeout: float | None = Field(default=None, ge=0)
    connect_timeout: float | None = Field(default=None, ge=0)
    sock_connect_timeout: float | None = Field(default=None, ge=0)
    sock_read_timeout: float | None = Field(default=None, ge=0)
    headers: list[dict[str, str]] | None = None
    download_concurrency: int | None = Field(default=None, ge=1)
    rate_limit: int | None = Field(default=None, ge=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https", "file"):
            raise ValueError("The URL must use http, https or file.")
        if parts.username or parts.password:
            raise ValueError("The remote url should not contain user credentials. Use the username and password fields.")
        return value

    @field_validator(*PEM_FIELDS)
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        start = value.find("-----BEGIN")
        if start < 0 or "-----END" not in value:
            raise ValueError("The provided value is not a valid PEM-encoded certificate or key.")
        return value[start:]

    @field_validator("headers")
    @classmethod
    def _headers(cls, value):
        if value is None:
            return None
        for item in value:
            if len(item) != 1:
                raise ValueError("Each header must be an object with exactly one key.")
        return value


async def remote_columns(session, body: RemoteBody, current) -> dict[str, Any]:
    values = body.model_dump()
    values["pulp_labels"] = check_labels(values.get("pulp_labels"))
    return values


def remote_fields(remote: Remote) -> dict:
    return {
        **base_fields(remote),
        "name": remote.name,
        "url": remote.url,
        "pulp_labels": remote.pulp_labels or {},
        "policy": remote.policy,
        "ca_cert": remote.ca_cert,
        "client_cert": remote.client_cert,
        "tls_validation": remote.tls_validation,
        "proxy_url": remote.proxy_url,
        "max_retries": remote.max_retries,
        "total_timeout": remote.total_timeout,
        "connect_timeout": remote.connect_timeout,
        "sock_connect_timeout": remote.sock_connect_timeout,
        "sock_read_timeout": remote.sock_read_timeout,
        "headers": remote.headers,
        "download_concurrency": remote.download_concurrency,
        "rate_limit": remote.rate_limit,
        "hidden_fields": [{"name": name, "is_set": bool(getattr(remote, name))} for name in SECRET_FIELDS],
    }


def remote_serializer(extra=None):
    async def serialize(session, remotes: list) -> list[dict]:
        items = [remote_fields(r) for r in remotes]
        if extra:
            for item, remote in zip(items, remotes):
                item.update(extra(remote))
        return items
    return serialize


REMOTE_FILTERS = FilterSet(
    filters={
        **listing.text_lookups("name", Remote.name),
        **listing.href_in(Remote),
        "pulp_label_select": listing.label_select(Remote.pulp_labels),
        **listing.datetime_lookups("pulp_last_updated", Remote.pulp_last_updated),
        "policy": lambda v: Remote.policy == v,
        "policy__in": lambda v: Remote.policy.in_(listing._split([v])),
        "pulp_type": lambda v: Remote.pulp_type == v,
        "pulp_type__in": lambda v: Remote.pulp_type.in_(listing._split([v])),
    },
    ordering={"name": Remote.name, "pulp_created": Remote.pulp_created, "pk": Remote.pulp_id,
              "url": Remote.url, "pulp_last_updated": Remote.pulp_last_updated},
    default_order=[Remote.pulp_created.desc(), Remote.pulp_id.desc()],
)


@router.get("/remotes/")
async def list_remotes(request: Request) -> JSONResponse:
    async with reading(request) as session:
        stmt = REMOTE_FILTERS.apply(select(Remote), request)
        return await paginate(session, request, stmt, remote_serializer())


def refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})
