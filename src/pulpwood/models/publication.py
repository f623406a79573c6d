"""Publication: a repository version fixed and laid out for serving, plus metadata files."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel


class Publication(PulpModel, Base):
    __tablename__ = "core_publication"
    __mapper_args__ = {"polymorphic_on": "pulp_type", "polymorphic_abstract": True}
    __href_path__ = "publications/"

    pulp_type: Mapped[str] = mapped_column(String(64), index=True)
    repository_version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core_repositoryversion.pulp_id", ondelete="CASCADE"), index=True
    )
    complete: Mapped[bool] = mapped_column(default=False)
    checkpoint: Mapped[bool] = mapped_column(default=False)


class PublishedArtifact(Base):
    """A file a publication serves at `relative_path` (content files and metadata alike)."""

    __tablename__ = "core_publishedartifact"
    __table_args__ = (UniqueConstraint("publication_id", "relative_path"),)

    pulp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    publication_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_publication.pulp_id", ondelete="CASCADE"))
    relative_path: Mapped[str] = mapped_column(String(1024))
    content_artifact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core_contentartifact.pulp_id", ondelete="CASCADE")
    )
    # Metadata written by the publisher (e.g. PULP_MANIFEST) points at an artifact directly.
    artifact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("core_artifact.pulp_id", ondelete="RESTRICT"))
