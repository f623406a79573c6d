"""Plugins: each publishes one PluginSpec under the entry-point group `pulpwood.plugins`.

The built-in file type comes through this same door, so a third party adds a content type
exactly the way we do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "pulpwood.plugins"

# Versions we advertise for the core: pulp-cli gates features on them (spec §6.1).
CORE_COMPONENT = {"component": "core", "version": "3.123.1", "package": "pulpcore", "module": "pulpcore.app"}


@dataclass(frozen=True)
class PluginSpec:
    """What a plugin contributes. Every member is optional except the identity."""

    label: str  # Pulp app label: "file", "ostree"
    version: str  # the Pulp component version whose API we mirror
    package: str  # the Pulp package name shown in status
    module: str  # the Pulp module shown in status
    # Task name -> coroutine function(ctx, **kwargs).
    tasks: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # Callables returning FastAPI routers for /pulp/api/v3/.
    v3_routers: tuple[Callable[[], Any], ...] = ()
    # Distribution pulp_type -> async resolver(session, DistributionInfo, path) -> ServeTarget | None
    # (pulpwood.content.targets; default serve_versions, publication types use serve_publications).
    content_resolvers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # Pulp 2 importer/distributor type definitions (see pulpwood.api.v2).
    v2_types: tuple[Any, ...] = ()
    # Extra top-level ASGI mounts (path prefix -> factory(runtime) returning an ASGI app), e.g. Pulp 2
    # web paths; pulpwood.plugin.ContentApp serves versions/publications under such a prefix.
    content_mounts: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


_loaded: list[PluginSpec] | None = None


def plugins() -> list[PluginSpec]:
    """All installed plugins, loaded once, sorted by label for stable output."""
    global _loaded
    if _loaded is None:
        found = [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
        _loaded = sorted(found, key=lambda spec: spec.label)
    return _loaded


def task_function(name: str) -> Callable[..., Any]:
    from pulpwood.tasking.registry import core_tasks

    table = dict(core_tasks())
    for spec in plugins():
        table.update(spec.tasks)
    try:
        return table[name]
    except KeyError:
        raise LookupError(f"No task named {name!r} is registered") from None


def component_versions() -> dict[str, str]:
    versions = {CORE_COMPONENT["component"]: CORE_COMPONENT["version"]}
    for spec in plugins():
        versions[spec.label] = spec.version
    return versions
