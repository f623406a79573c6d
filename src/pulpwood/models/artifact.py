"""Artifact: one file in content-addressed storage."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel, utcnow

# Pulp computes these by default (ALLOWED_CONTENT_CHECKSUMS); md5 and sha1 stay null.
DIGEST_FIELDS = ("sha224", "sha256", "sha384", "sha512")
ALL_DIGEST_FIELDS = ("md5", "sha1", *DIGEST_FIELDS)


class Artifact(PulpModel, Base):
    __tablename__ = "core_artifact"
    __href_path__ = "artifacts/"
    __prn__ = "core.artifact"
    # Lists are newest first; this index serves that order with LIMIT.
    __table_args__ = (Index("ix_core_artifact_created", "pulp_created"),)

    file: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    md5: Mapped[str | None] = mapped_column(String(32), index=True)
    sha1: Mapped[str | None] = mapped_column(String(40), index=True)
    sha224: Mapped[str | None] = mapped_column(String(56), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    sha384: Mapped[str | None] = mapped_column(String(96), index=True)
    sha512: Mapped[str | None] = mapped_column(String(128), index=True)
    # Touched when content starts using it again, so orphan cleanup spares fresh artifacts.
    timestamp_of_interest: Mapped[dt.datetime] = mapped_column(default=utcnow)
