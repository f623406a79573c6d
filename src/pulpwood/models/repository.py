"""Repository, its immutable versions, and version membership.

Membership is one RepositoryContent row per stay of a unit in a repository, holding the
version numbers where it was added and removed: a unit is in version N when
`version_added <= N < version_removed` (removed null = still there). A new version costs
rows for its changes only.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel


class Repository(PulpModel, Base):
    __tablename__ = "core_repository"
    __mapper_args__ = {"polymorphic_on": "pulp_type", "polymorphic_abstract": True}
    __href_path__ = "repositories/"

    pulp_type: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    pulp_labels: Mapped[dict] = mapped_column(default=dict)
    retain_repo_versions: Mapped[int | None] = mapped_column(Integer)
    retain_checkpoints: Mapped[int | None] = mapped_column(Integer)
    next_version: Mapped[int] = mapped_column(Integer, default=0)
    remote_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("core_remote.pulp_id", ondelete="SET NULL"))
    user_hidden: Mapped[bool] = mapped_column(default=False)


class RepositoryVersion(PulpModel, Base):
    __tablename__ = "core_repositoryversion"
    __table_args__ = (UniqueConstraint("repository_id", "number"),)
    __prn__ = "core.repositoryversion"

    repository_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_repository.pulp_id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    complete: Mapped[bool] = mapped_column(default=False)
    base_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_repositoryversion.pulp_id", ondelete="SET NULL")
    )
    # Counts per pulp_type computed once when the version completes: {"added": {..}, ...}.
    content_counts: Mapped[dict] = mapped_column(default=dict)


class RepositoryContent(Base):
    __tablename__ = "core_repositorycontent"
    __table_args__ = (
        Index("ix_core_repositorycontent_repo_added", "repository_id", "version_added"),
        Index("ix_core_repositorycontent_repo_removed", "repository_id", "version_removed"),
        Index("ix_core_repositorycontent_content", "content_id"),
    )

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    repository_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_repository.pulp_id", ondelete="CASCADE"))
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"))
    version_added: Mapped[int] = mapped_column(Integer)
    version_removed: Mapped[int | None] = mapped_column(Integer)
