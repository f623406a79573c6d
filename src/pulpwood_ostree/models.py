"""OSTree models: six single-file content types plus repository, remote and distribution.

Every content unit has exactly one file (one ContentArtifact) at `relative_path`, the path
of that file inside an archive-mode OSTree repository; a distribution serves those paths.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.plugin import Base, Content, Distribution, Remote, Repository

# OSTree object type numbers (libostree's OstreeObjectType); only 1-3 become OstreeObject.
FILE, DIR_TREE, DIR_META, COMMIT, TOMBSTONE_COMMIT, COMMIT_META = 1, 2, 3, 4, 5, 6


class OstreeObject(Content):
    __tablename__ = "ostree_ostreeobject"
    __mapper_args__ = {"polymorphic_identity": "ostree.object"}
    __href_path__ = "content/ostree/objects/"
    __prn__ = "ostree.ostreeobject"
    natural_key_fields = ("checksum", "relative_path")
    __table_args__ = (UniqueConstraint("checksum", "relative_path"),)

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"), primary_key=True)
    typ: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    relative_path: Mapped[str] = mapped_column(String(255))


class OstreeCommit(Content):
    __tablename__ = "ostree_ostreecommit"
    __mapper_args__ = {"polymorphic_identity": "ostree.commit"}
    __href_path__ = "content/ostree/commits/"
    __prn__ = "ostree.ostreecommit"
    natural_key_fields = ("checksum", "relative_path")
    __table_args__ = (UniqueConstraint("checksum", "relative_path"),)

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"), primary_key=True)
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    relative_path: Mapped[str] = mapped_column(String(255))
    parent_commit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ostree_ostreecommit.pulp_id", ondelete="SET NULL"))


class OstreeCommitObject(Base):
    """Which objects a commit's root tree reaches (not its parents'); not content itself.

    A sync writes one row per (commit, object), so hundreds of thousands at a time: the pair
    is the key (no id of its own to generate and index) and SQLite keeps the rows in that
    key's b-tree (WITHOUT ROWID) instead of a rowid table plus a second index.

    No foreign keys: PostgreSQL checked both for every row inserted (a lookup and a row lock
    in each parent table), which was three quarters of the time of writing a sync's links
    (2.4 of 3.2 s for 165,000 rows) and the longest step after the downloads. The rows are
    written only for commits and objects just saved, and the cascade the keys gave is kept by
    triggers on the two parent tables (migration 0004): deleting a commit or an object deletes
    its links.
    """

    __tablename__ = "ostree_ostreecommitobject"
    __table_args__ = (Index("ix_ostree_commitobject_obj", "obj_id"), {"sqlite_with_rowid": False})

    commit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # ostree_ostreecommit.pulp_id
    obj_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # ostree_ostreeobject.pulp_id


class OstreeRef(Content):
    __tablename__ = "ostree_ostreeref"
    __mapper_args__ = {"polymorphic_identity": "ostree.refs"}
    __href_path__ = "content/ostree/refs/"
    __prn__ = "ostree.ostreeref"
    natural_key_fields = ("name", "commit_id", "relative_path")
    repo_key_fields = ("name",)
    __table_args__ = (UniqueConstraint("name", "commit_id", "relative_path"),)

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    commit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ostree_ostreecommit.pulp_id", ondelete="CASCADE"))
    relative_path: Mapped[str] = mapped_column(String(512))


class OstreeConfig(Content):
    __tablename__ = "ostree_ostreeconfig"
    __mapper_args__ = {"polymorphic_identity": "ostree.config"}
    __href_path__ = "content/ostree/configs/"
    __prn__ = "ostree.ostreeconfig"
    natural_key_fields = ("sha256", "relative_path")
    repo_key_fields = ("relative_path",)
    __table_args__ = (UniqueConstraint("sha256", "relative_path"),)

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    relative_path: Mapped[str] = mapped_column(String(255))


class OstreeSummary(Content):
    __tablename__ = "ostree_ostreesummary"
    __mapper_args__ = {"polymorphic_identity": "ostree.summary"}
    __href_path__ = "content/ostree/summaries/"
    __prn__ = "ostree.ostreesummary"
    natural_key_fields = ("sha256", "relative_path")
    repo_key_fields = ("relative_path",)
    __table_args__ = (UniqueConstraint("sha256", "relative_path"),)

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    relative_path: Mapped[str] = mapped_column(String(255))


class OstreeContent(Content):
    """Any other file of a repository, in practice static-delta superblocks and parts."""

    __tablename__ = "ostree_ostreecontent"
    __mapper_args__ = {"polymorphic_identity": "ostree.content"}
    __href_path__ = "content/ostree/content/"
    __prn__ = "ostree.ostreecontent"
    natural_key_fields = ("relative_path", "digest")
    repo_key_fields = ("relative_path",)
    __table_args__ = (UniqueConstraint("relative_path", "digest"),)

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_content.pulp_id", ondelete="CASCADE"), primary_key=True)
    relative_path: Mapped[str] = mapped_column(String(512))
    digest: Mapped[str] = mapped_column(String(64))


class OstreeRemote(Remote):
    __tablename__ = "ostree_ostreeremote"
    __mapper_args__ = {"polymorphic_identity": "ostree.ostree"}
    __href_path__ = "remotes/ostree/ostree/"
    __prn__ = "ostree.ostreeremote"

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_remote.pulp_id", ondelete="CASCADE"), primary_key=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    include_refs: Mapped[list | None] = mapped_column()
    exclude_refs: Mapped[list | None] = mapped_column()


class OstreeRepository(Repository):
    __tablename__ = "ostree_ostreerepository"
    __mapper_args__ = {"polymorphic_identity": "ostree.ostree"}
    __href_path__ = "repositories/ostree/ostree/"
    __prn__ = "ostree.ostreerepository"

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_repository.pulp_id", ondelete="CASCADE"), primary_key=True)
    compute_delta: Mapped[bool] = mapped_column(default=True)


class OstreeDistribution(Distribution):
    __tablename__ = "ostree_ostreedistribution"
    __mapper_args__ = {"polymorphic_identity": "ostree.ostree"}
    __href_path__ = "distributions/ostree/ostree/"
    __prn__ = "ostree.ostreedistribution"

    pulp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core_distribution.pulp_id", ondelete="CASCADE"), primary_key=True)


CONTENT_MODELS = (OstreeCommit, OstreeRef, OstreeObject, OstreeConfig, OstreeSummary, OstreeContent)
