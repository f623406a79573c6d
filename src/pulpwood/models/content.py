"""Content units (polymorphic on pulp_type) and their links to artifacts and remotes."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel, utcnow


class Content(PulpModel, Base):
    """Master table; each plugin type adds a joined table keyed by the same pulp_id."""

    __tablename__ = "core_content"
    __mapper_args__ = {"polymorphic_on": "pulp_type", "polymorphic_abstract": True}
    __href_path__ = "content/"
    # Natural-key fields of the type; a unit is unique by them (plugins override).
    natural_key_fields: tuple[str, ...] = ()
    # Field that must not collide inside one repository version (file: relative_path).
    repo_key_fields: tuple[str, ...] = ()

    pulp_type: Mapped[str] = mapped_column(String(64), index=True)
    pulp_labels: Mapped[dict] = mapped_column(default=dict)
    timestamp_of_interest: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def natural_key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.natural_key_fields)


class ContentArtifact(Base):
    """Which artifact holds a content unit's file at `relative_path` (null until downloaded)."""

    __tablename__ = "core_contentartifact"
    __table_args__ = (
        UniqueConstraint("content_id", "relative_path"),
        # The content app looks every request up by relative path.
        Index("ix_core_contentartifact_relative_path", "relative_path"),
    )

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"))
    artifact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_artifact.pulp_id", ondelete="SET NULL"), index=True
    )
    relative_path: Mapped[str] = mapped_column(String(1024))


class RemoteArtifact(Base):
    """Where an artifact not yet stored can be fetched from (on_demand / streamed)."""

    __tablename__ = "core_remoteartifact"
    __table_args__ = (
        UniqueConstraint("content_artifact_id", "remote_id"),
        Index("ix_core_remoteartifact_remote", "remote_id"),
    )

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    content_artifact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core_contentartifact.pulp_id", ondelete="CASCADE")
    )
    remote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_remote.pulp_id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(4096))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
