"""What the Pulp 2 API has and the core does not: v2 repository records (notes, scratchpad,
verbatim importer/distributor configs), v2 task records (tags, spawned tasks) and the
sync/publish history.

A v2 repository owns at most one core Repository (`name` = v2 id). The core repository is
made when the first importer or distributor tells which content the repository holds
(ostree -> OstreeRepository; iso and harness -> FileRepository), so a repository created
bare can still become either kind.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, utcnow
from pulpwood.ids import uuid7


class V2Repository(Base):
    __tablename__ = "pulp2_repository"

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    repo_id: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[dict] = mapped_column(default=dict)
    scratchpad: Mapped[dict] = mapped_column(default=dict)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    repository_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_repository.pulp_id", ondelete="SET NULL"))
    # The v2 unit type this repository's content is shown as: "iso", "ostree", "harness_type_one".
    unit_type: Mapped[str | None] = mapped_column(String(64))
    last_unit_added: Mapped[dt.datetime | None] = mapped_column()
    last_unit_removed: Mapped[dt.datetime | None] = mapped_column()


class V2Importer(Base):
    __tablename__ = "pulp2_importer"

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    repo_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("pulp2_repository.pulp_id", ondelete="CASCADE"),
                                               unique=True)
    importer_type_id: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict] = mapped_column(default=dict)
    scratchpad: Mapped[dict | None] = mapped_column(JSON)
    last_sync: Mapped[dt.datetime | None] = mapped_column()
    last_updated: Mapped[dt.datetime] = mapped_column(default=utcnow)
    remote_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("core_remote.pulp_id", ondelete="SET NULL"))


class V2Distributor(Base):
    __tablename__ = "pulp2_distributor"
    __table_args__ = (UniqueConstraint("repo_pk", "distributor_id"),)

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    repo_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("pulp2_repository.pulp_id", ondelete="CASCADE"))
    distributor_id: Mapped[str] = mapped_column(String(255))
    distributor_type_id: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict] = mapped_column(default=dict)
    auto_publish: Mapped[bool] = mapped_column(default=False)
    scratchpad: Mapped[dict | None] = mapped_column(JSON)
    last_publish: Mapped[dt.datetime | None] = mapped_column()
    last_updated: Mapped[dt.datetime] = mapped_column(default=utcnow)
    distribution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_distribution.pulp_id", ondelete="SET NULL"))


class V2TaskRecord(Base):
    """The v2 side of a core task: its tags, v2 task type and the tasks it spawned."""

    __tablename__ = "pulp2_task"

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_task.pulp_id", ondelete="CASCADE"),
                                               primary_key=True)
    task_type: Mapped[str] = mapped_column(String(255))
    tags: Mapped[list] = mapped_column(default=list)
    spawned: Mapped[list] = mapped_column(default=list)


class V2History(Base):
    """One sync (kind "sync") or publish (kind "publish") history entry."""

    __tablename__ = "pulp2_history"

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    kind: Mapped[str] = mapped_column(String(16))
    repo_id: Mapped[str] = mapped_column(String(255), index=True)
    owner_id: Mapped[str] = mapped_column(String(255))
    owner_type_id: Mapped[str] = mapped_column(String(64))
    started: Mapped[dt.datetime] = mapped_column()
    completed: Mapped[dt.datetime] = mapped_column()
    result: Mapped[str] = mapped_column(String(16))
    added_count: Mapped[int | None] = mapped_column(Integer)
    updated_count: Mapped[int | None] = mapped_column(Integer)
    removed_count: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict | None] = mapped_column(JSON)
    details: Mapped[dict | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    exception: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
