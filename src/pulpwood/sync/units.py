"""Declarative units: what a sync wants to exist, before it knows what already does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ArtifactSpec:
    """The file a unit expects at `relative_path`, and where to fetch it from."""

    relative_path: str
    url: str | None = None
    size: int | None = None
    sha256: str | None = None
    # Set once the artifact is known to be stored (found in the database or just saved).
    artifact_id: uuid.UUID | None = None


@dataclass
class Unit:
    """A content unit by its type and column values (natural key included)."""

    model: type
    fields: dict[str, Any]
    artifacts: list[ArtifactSpec] = field(default_factory=list)
    pulp_labels: dict = field(default_factory=dict)
    # Filled by lookup_units / save_units.
    pulp_id: uuid.UUID | None = None
    existing: bool = False

    def key(self) -> tuple:
        return tuple(self.fields[name] for name in self.model.natural_key_fields)
