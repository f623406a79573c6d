"""Distribution: serves a repository, a repository version or a publication at a base path."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel


class ContentGuard(PulpModel, Base):
    __tablename__ = "core_contentguard"
    __mapper_args__ = {"polymorphic_on": "pulp_type"}

    pulp_type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)


class Distribution(PulpModel, Base):
    __tablename__ = "core_distribution"
    __mapper_args__ = {"polymorphic_on": "pulp_type", "polymorphic_abstract": True}
    __href_path__ = "distributions/"

    pulp_type: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    base_path: Mapped[str] = mapped_column(String(1024), unique=True)
    pulp_labels: Mapped[dict] = mapped_column(default=dict)
    hidden: Mapped[bool] = mapped_column(default=False)
    checkpoint: Mapped[bool] = mapped_column(default=False)
    content_guard_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_contentguard.pulp_id", ondelete="SET NULL")
    )
    repository_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_repository.pulp_id", ondelete="SET NULL")
    )
    repository_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_repositoryversion.pulp_id", ondelete="SET NULL")
    )
    publication_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_publication.pulp_id", ondelete="SET NULL")
    )
