"""Declarative base, naming conventions and the column types every model shares."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pulpwood.ids import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases (SQLite keeps no zone, so we store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict: JSON(), list: JSON(), uuid.UUID: Uuid()}


class PulpModel:
    """The identity and timestamps every Pulp object carries."""

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    pulp_created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    pulp_last_updated: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
