"""SQLAlchemy models, one module per aggregate. No I/O here."""

from pulpwood.models.artifact import Artifact
from pulpwood.models.content import Content, ContentArtifact, RemoteArtifact
from pulpwood.models.distribution import ContentGuard, Distribution
from pulpwood.models.publication import Publication, PublishedArtifact
from pulpwood.models.remote import Remote
from pulpwood.models.repository import Repository, RepositoryContent, RepositoryVersion
from pulpwood.models.serving import ContentLease, ServeEpoch
from pulpwood.models.task import Task, TaskGroup
from pulpwood.models.upload import Upload, UploadChunk
from pulpwood.models.user import User
from pulpwood.models.worker import AppStatus
from pulpwood.models import pulp2  # noqa: F401,E402  (maps the Pulp 2 API tables)

__all__ = [
    "AppStatus",
    "Artifact",
    "Content",
    "ContentArtifact",
    "ContentGuard",
    "ContentLease",
    "Distribution",
    "Publication",
    "PublishedArtifact",
    "Remote",
    "RemoteArtifact",
    "Repository",
    "RepositoryContent",
    "RepositoryVersion",
    "ServeEpoch",
    "Task",
    "TaskGroup",
    "Upload",
    "UploadChunk",
    "User",
]
