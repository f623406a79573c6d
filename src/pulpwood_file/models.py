"""The file content type's models: FileContent and the typed repository, remote,
publication and distribution that carry it."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.plugin import Content, Distribution, Publication, Remote, Repository, href

FILE_TYPE = "file.file"
DEFAULT_MANIFEST = "PULP_MANIFEST"


class FileContent(Content):
    """One file at `relative_path` whose bytes have the sha256 `digest`."""

    __tablename__ = "file_filecontent"
    __table_args__ = (UniqueConstraint("relative_path", "digest"),)
    __mapper_args__ = {"polymorphic_identity": FILE_TYPE}
    __href_path__ = "content/file/files/"
    __prn__ = "file.filecontent"
    natural_key_fields = ("relative_path", "digest")
    # Two files may not share a path inside one repository version.
    repo_key_fields = ("relative_path",)

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"),
                                               primary_key=True)
    relative_path: Mapped[str] = mapped_column(String(1024), index=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)


class FileRepository(Repository):
    __tablename__ = "file_filerepository"
    __mapper_args__ = {"polymorphic_identity": FILE_TYPE}
    __href_path__ = "repositories/file/file/"
    __prn__ = "file.filerepository"
    content_types = (FileContent,)

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_repository.pulp_id", ondelete="CASCADE"),
                                               primary_key=True)
    autopublish: Mapped[bool] = mapped_column(default=False)
    manifest: Mapped[str | None] = mapped_column(String(255), default=DEFAULT_MANIFEST)
    last_sync_details: Mapped[dict] = mapped_column(default=dict)

    async def on_new_version(self, session, storage, version) -> list[str]:
        """Autopublish: every new version gets a publication in the same transaction."""
        if not self.autopublish:
            return []
        from pulpwood_file.publishing import create_publication

        return [href(await create_publication(session, storage, version, self.manifest))]


class FileRemote(Remote):
    __tablename__ = "file_fileremote"
    __mapper_args__ = {"polymorphic_identity": FILE_TYPE}
    __href_path__ = "remotes/file/file/"
    __prn__ = "file.fileremote"

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_remote.pulp_id", ondelete="CASCADE"),
                                               primary_key=True)


class FilePublication(Publication):
    __tablename__ = "file_filepublication"
    __mapper_args__ = {"polymorphic_identity": FILE_TYPE}
    __href_path__ = "publications/file/file/"
    __prn__ = "file.filepublication"

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_publication.pulp_id", ondelete="CASCADE"),
                                               primary_key=True)
    manifest: Mapped[str | None] = mapped_column(String(255), default=DEFAULT_MANIFEST)


class FileDistribution(Distribution):
    __tablename__ = "file_filedistribution"
    __mapper_args__ = {"polymorphic_identity": FILE_TYPE}
    __href_path__ = "distributions/file/file/"
    __prn__ = "file.filedistribution"

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_distribution.pulp_id", ondelete="CASCADE"),
                                               primary_key=True)
