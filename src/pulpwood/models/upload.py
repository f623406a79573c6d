"""Upload: a file sent in chunks, assembled into an artifact on commit."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel


class Upload(PulpModel, Base):
    __tablename__ = "core_upload"
    __href_path__ = "uploads/"
    __prn__ = "core.upload"

    size: Mapped[int] = mapped_column(BigInteger)
    completed: Mapped[bool] = mapped_column(default=False)


class UploadChunk(PulpModel, Base):
    __tablename__ = "core_uploadchunk"

    upload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_upload.pulp_id", ondelete="CASCADE"), index=True)
    offset: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    file: Mapped[str] = mapped_column(String(255))
