"""What content apps on PostgreSQL need to answer from memory and still see every change.

ServeEpoch is one counter that every writer bumps (with a NOTIFY) after committing; a content
app acknowledges the epochs it has seen in its ContentLease row, and may answer from memory only
while that lease is valid. A writer returns once every valid lease has seen its epoch or
has run out (content/fast/lease.py tells the whole protocol).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base

# The NOTIFY channel the epochs go out on.
SERVE_CHANNEL = "pulpwood_serve"


class ServeEpoch(Base):
    __tablename__ = "core_serveepoch"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # one row: 1
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)


class ContentLease(Base):
    __tablename__ = "core_contentlease"

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # one per content app process
    seen_epoch: Mapped[int] = mapped_column(BigInteger, default=-1)
    lease_until: Mapped[dt.datetime]
