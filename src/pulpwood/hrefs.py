"""Hrefs and PRNs: how every object is named to clients, and how names are resolved back.

Typed models declare `__href_path__` (the collection below `api/v3/`, e.g.
`repositories/file/file/`) and `__prn__` (`file.filerepository`). Repository versions are
named by their repository's href plus `versions/<number>/`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from pulpwood.db.base import Base

_state = {"v3": "/pulp/api/v3/"}
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def configure(api_root: str) -> None:
    _state["v3"] = f"{api_root}api/v3/"


def v3_root() -> str:
    return _state["v3"]


def collection_href(model) -> str:
    return f"{_state['v3']}{model.__href_path__}"


def href(obj) -> str:
    from pulpwood.models import RepositoryVersion, User

    if isinstance(obj, RepositoryVersion):
        raise TypeError("use version_href(repository, number) for repository versions")
    if isinstance(obj, User):
        return f"{collection_href(type(obj))}{obj.id}/"
    return f"{collection_href(type(obj))}{obj.pulp_id}/"


def href_for(model, pulp_id) -> str:
    return f"{collection_href(model)}{pulp_id}/"


def version_href(repository, number: int) -> str:
    return f"{href(repository)}versions/{number}/"


def prn(obj) -> str:
    key = obj.id if hasattr(obj, "id") and not hasattr(obj, "pulp_id") else obj.pulp_id
    return f"prn:{type(obj).__prn__}:{key}"


def _typed_models() -> dict[str, type]:
    """Collection path -> concrete model class, for every mapped model that has one."""
    found = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        path = cls.__dict__.get("__href_path__")
        if path and not mapper.polymorphic_abstract:
            found[path] = cls
    return found


# Lookup tables built once (resolve() runs per row in lists); rebuilt on a miss, since
# classes mapped later (plugins imported after first use) only ever add entries.
_tables: dict[str, dict] = {}


class _Table(dict):
    def __init__(self, name: str, build) -> None:
        super().__init__(build())
        self._name, self._build = name, build

    def get(self, key, default=None):
        if key not in self:
            self.update(self._build())
        return super().get(key, default)


def _cached(name: str, build) -> dict[str, type]:
    table = _tables.get(name)
    if table is None:
        table = _tables[name] = _Table(name, build)
    return table


def _collections() -> dict[str, type]:
    return _cached("collections", _typed_models)


def _build_prn_models() -> dict[str, type]:
    found = {}
    for mapper in Base.registry.mappers:
        name = mapper.class_.__dict__.get("__prn__")
        if name:
            found[name] = mapper.class_
    return found


def _prn_models() -> dict[str, type]:
    return _cached("prns", _build_prn_models)


@dataclass(frozen=True)
class Resolved:
    model: type
    pulp_id: uuid.UUID | int | None
    # For repository versions: the repository's model and id plus the number.
    version_number: int | None = None


def resolve(value: str) -> Resolved | None:
    """Turn an href or a PRN into (model, id); None when it names nothing we know."""
    if not isinstance(value, str):
        return None
    if value.startswith("prn:"):
        return _resolve_prn(value)
    root = _state["v3"]
    if not value.startswith(root):
        return None
    rest = value[len(root):]
    match = re.fullmatch(rf"(?P<path>[a-z0-9_/-]+/)(?P<id>{_UUID})/versions/(?P<n>\d+)/", rest)
    if match:
        model = _collections().get(match["path"])
        if model is None:
            return None
        return Resolved(model, uuid.UUID(match["id"]), int(match["n"]))
    match = re.fullmatch(rf"(?P<path>[a-z0-9_/-]+/)(?P<id>{_UUID}|\d+)/", rest)
    if not match:
        return None
    model = _collections().get(match["path"])
    if model is None:
        return None
    raw = match["id"]
    return Resolved(model, int(raw) if raw.isdigit() else uuid.UUID(raw))


def _resolve_prn(value: str) -> Resolved | None:
    parts = value.split(":")
    if len(parts) != 3:
        return None
    model = _prn_models().get(parts[1])
    if model is None:
        return None
    try:
        key = int(parts[2]) if parts[2].isdigit() else uuid.UUID(parts[2])
    except ValueError:
        return None
    return Resolved(model, key)
