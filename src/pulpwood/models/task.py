"""Task and TaskGroup: the durable record of asynchronous work and its queue position."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel

WAITING, RUNNING, CANCELING = "waiting", "running", "canceling"
COMPLETED, FAILED, CANCELED, SKIPPED = "completed", "failed", "canceled", "skipped"
INCOMPLETE_STATES = (WAITING, RUNNING, CANCELING)
FINAL_STATES = (COMPLETED, FAILED, CANCELED, SKIPPED)


class TaskGroup(PulpModel, Base):
    __tablename__ = "core_taskgroup"
    __href_path__ = "task-groups/"
    __prn__ = "core.taskgroup"

    description: Mapped[str] = mapped_column(Text, default="")
    all_tasks_dispatched: Mapped[bool] = mapped_column(default=True)


class Task(PulpModel, Base):
    __tablename__ = "core_task"
    # Lists are newest first; the plain pulp_created index serves that order with LIMIT.
    __table_args__ = (Index("ix_core_task_state_created", "state", "pulp_created"),
                      Index("ix_core_task_created", "pulp_created"))
    __href_path__ = "tasks/"
    __prn__ = "core.task"

    name: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(16), default=WAITING)
    logging_cid: Mapped[str] = mapped_column(String(255), default="", index=True)
    kwargs: Mapped[dict] = mapped_column(default=dict)
    # Locks: exclusive resources exclude every other task on them; shared ones coexist.
    exclusive_resources: Mapped[list] = mapped_column(default=list)
    shared_resources: Mapped[list] = mapped_column(default=list)
    reserved_resources_record: Mapped[list] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    unblocked_at: Mapped[dt.datetime | None] = mapped_column()
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    error: Mapped[dict | None] = mapped_column()
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("core_appstatus.pulp_id", ondelete="SET NULL"))
    parent_task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("core_task.pulp_id", ondelete="SET NULL"))
    task_group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("core_taskgroup.pulp_id", ondelete="SET NULL"))
    progress_reports: Mapped[list] = mapped_column(default=list)
    created_resources: Mapped[list] = mapped_column(default=list)
    result: Mapped[dict | None] = mapped_column(JSON)
