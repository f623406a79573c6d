"""Helpers every v3 endpoint uses: fetching objects, resolving hrefs in bodies, base fields."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood import hrefs
from pulpwood.api.responses import iso
from pulpwood.errors import NotFound, ValidationError

LABEL_KEY = re.compile(r"^[\w .-]+$")


def parse_uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound() from None


async def get_object(session: AsyncSession, model, pk: str | uuid.UUID):
    pulp_id = pk if isinstance(pk, uuid.UUID) else parse_uuid(pk)
    obj = await session.get(model, pulp_id)
    if obj is None or not isinstance(obj, model):
        raise NotFound(f"No {model.__name__} matches the given query.")
    return obj


async def resolve_field(session: AsyncSession, field: str, value: Any, model, *, allow_null: bool = True):
    """An href or PRN from a request body -> the object; a clear 400 naming `field` otherwise."""
    if value is None or value == "":
        if allow_null:
            return None
        raise ValidationError({field: ["This field may not be null."]})
    if not isinstance(value, str):
        raise ValidationError({field: ["Incorrect type. Expected URI string."]})
    resolved = hrefs.resolve(value)
    if resolved is None:
        raise ValidationError({field: [f"URI {value} not found."]})
    if not issubclass(resolved.model, model):
        raise ValidationError({field: [f"URI {value} is not a {model.__name__}."]})
    if resolved.version_number is not None:
        raise ValidationError({field: [f"URI {value} is not a {model.__name__}."]})
    obj = await session.get(resolved.model, resolved.pulp_id)
    if obj is None or not isinstance(obj, model):
        raise ValidationError({field: [f"Invalid hyperlink - Object does not exist."]})
    return obj


async def resolve_version(session: AsyncSession, field: str, value: Any, repository_model=None):
    """A repository version href -> RepositoryVersion (complete), or a 400 naming `field`."""
    from pulpwood.models import Repository, RepositoryVersion

    if value is None or value == "":
        return None
    resolved = hrefs.resolve(value) if isinstance(value, str) else None
    if resolved is not None and resolved.model is RepositoryVersion and resolved.version_number is None:
        version = await session.get(RepositoryVersion, resolved.pulp_id)
        if version is not None and version.complete:
            return version
        raise ValidationError({field: ["Invalid hyperlink - Object does not exist."]})
    if resolved is None or resolved.version_number is None or not issubclass(resolved.model, repository_model or Repository):
        raise ValidationError({field: [f"URI {value} is not a repository version."]})
    version = await session.scalar(select(RepositoryVersion).where(
        RepositoryVersion.repository_id == resolved.pulp_id,
        RepositoryVersion.number == resolved.version_number,
        RepositoryVersion.complete.is_(True)))
    if version is None:
        raise ValidationError({field: ["Invalid hyperlink - Object does not exist."]})
    return version


def check_labels(labels: Any, field: str = "pulp_labels") -> dict:
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise ValidationError({field: ["Expected a dictionary of items."]})
    for key, value in labels.items():
        if not LABEL_KEY.match(key):
            raise ValidationError({field: ["Key must be alphanumeric, underscore, space, dot, or hyphen."]})
        if value is not None and ("(" in str(value) or ")" in str(value)):
            raise ValidationError({field: ["Value must not contain '(' or ')'."]})
    return labels


def base_fields(obj) -> dict:
    return {
        "pulp_href": hrefs.href(obj),
        "prn": hrefs.prn(obj),
        "pulp_created": iso(obj.pulp_created),
        "pulp_last_updated": iso(obj.pulp_last_updated),
    }
