"""THE plugin API. Plugins import from here and nowhere else in pulpwood.

Re-exports only; `tests/test_plugin_api.py` pins the names so a change is deliberate.
"""

from pulpwood.api.body import read_body
from pulpwood.api.deps import correlation_id, reading, require_user, runtime_of, user_id, writing
from pulpwood.api.dispatching import dispatch_from_request
from pulpwood.api.listing import FilterSet, paginate
from pulpwood.api.responses import JSONResponse, iso, task_accepted
from pulpwood.api.v3.common import base_fields, check_labels, get_object, resolve_field, resolve_version
from pulpwood.api.v3.content import content_serializer, version_filters
from pulpwood.api.v3.distributions import (
    DISTRIBUTION_FILTERS, DistributionBody, check_base_path, distribution_columns, distribution_serializer,
)
from pulpwood.api.v3.publications import PUBLICATION_FILTERS, publication_serializer
from pulpwood.api.v3.remotes import REMOTE_FILTERS, RemoteBody, remote_columns, remote_serializer
from pulpwood.api.v3.repositories import (
    REPOSITORY_FILTERS, RepositoryAddRemoveContent, RepositoryBody, RepositorySyncBody, after_create,
    repository_columns, repository_serializer, versions_router,
)
from pulpwood.api.v3.typed import TypedResource, typed_router
from pulpwood.api.validation import Body, validate
from pulpwood.api import listing
from pulpwood.content.targets import serve_publications
from pulpwood.content.app import ContentApp, mount_prefix, serve_target
from pulpwood.content.targets import (
    DistributionInfo, ServeTarget, newest_publication, serve_publications, serve_versions,
)
from pulpwood.db.base import Base, utcnow
from pulpwood.download.config import DownloadConfig
from pulpwood.download.http import Downloader, DownloadError
from pulpwood.errors import DigestMismatch, NotFound, TaskError, ValidationError
from pulpwood.hrefs import collection_href, href, href_for, prn, resolve, version_href
from pulpwood.ids import uuid7
from pulpwood.models import (
    Artifact, Content, ContentArtifact, Distribution, Publication, PublishedArtifact, Remote,
    RemoteArtifact, Repository, RepositoryContent, RepositoryVersion, Upload, UploadChunk,
)
from pulpwood.queries.bulk import bulk_insert
from pulpwood.queries.versions import content_ids_in, get_version, latest_version
from pulpwood.registry import PluginSpec
from pulpwood.settings import load_settings
from pulpwood.services.artifacts import save_artifact
from pulpwood.services.uploads import upload_to_artifact
from pulpwood.services.versions import chunks, commit_version, version_content_ids
from pulpwood.storage.filesystem import StoredFile
from pulpwood.sync import (
    ADD_AND_REMOVE, ArtifactSpec, Unit, add_and_remove, after_new_version, duplicates_validator,
    lookup_artifacts, lookup_units, new_version, replaced_by, save_artifacts, save_units,
)
from pulpwood.tasking.context import TaskContext
from pulpwood.tasking.progress import ProgressReport

__all__ = sorted([
    "ContentApp", "DistributionInfo", "ServeTarget", "mount_prefix", "newest_publication",
    "serve_publications", "serve_target", "serve_versions",
    "ADD_AND_REMOVE", "add_and_remove", "after_new_version", "new_version", "load_settings",
    "DISTRIBUTION_FILTERS", "PUBLICATION_FILTERS", "REMOTE_FILTERS",
    "ArtifactSpec", "DownloadConfig", "DownloadError", "Downloader", "StoredFile", "Unit", "Upload",
    "UploadChunk", "duplicates_validator", "lookup_artifacts", "lookup_units", "replaced_by",
    "save_artifacts", "save_units",
    "Artifact", "Base", "Body", "Content", "ContentArtifact", "DigestMismatch", "Distribution",
    "DistributionBody", "FilterSet", "JSONResponse", "NotFound", "PluginSpec", "ProgressReport",
    "Publication", "PublishedArtifact", "REPOSITORY_FILTERS", "Remote", "RemoteArtifact", "RemoteBody",
    "Repository", "RepositoryAddRemoveContent", "RepositoryBody", "RepositorySyncBody", "RepositoryContent", "RepositoryVersion", "TaskContext", "TaskError",
    "TypedResource", "ValidationError", "after_create", "base_fields", "bulk_insert", "check_base_path", "check_labels",
    "chunks", "collection_href", "commit_version", "content_ids_in", "content_serializer", "correlation_id",
    "dispatch_from_request", "distribution_columns", "distribution_serializer", "get_object", "get_version",
    "href", "href_for", "iso", "latest_version", "listing", "paginate", "prn", "publication_serializer",
    "read_body", "reading", "remote_columns", "remote_serializer", "repository_columns",
    "repository_serializer", "require_user", "resolve", "resolve_field", "resolve_version", "runtime_of", "save_artifact",
    "task_accepted", "typed_router", "upload_to_artifact", "user_id", "uuid7", "utcnow", "validate", "version_content_ids",
    "version_filters", "versions_router", "writing",
])
