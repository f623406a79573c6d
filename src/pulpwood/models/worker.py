"""AppStatus: a running worker, API or content process and its last heartbeat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel, utcnow

WORKER, API_APP, CONTENT_APP = "worker", "api", "content"


class AppStatus(PulpModel, Base):
    __tablename__ = "core_appstatus"
    __href_path__ = "workers/"
    __prn__ = "core.worker"
    __table_args__ = (UniqueConstraint("app_type", "name"),)

    app_type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    last_heartbeat: Mapped[dt.datetime] = mapped_column(default=utcnow)
    versions: Mapped[dict] = mapped_column(default=dict)
