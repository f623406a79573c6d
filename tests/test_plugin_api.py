"""The plugin API is a contract: its names change only on purpose (update this list then)."""

import pulpwood.plugin

PINNED = {
    "ADD_AND_REMOVE", "Artifact", "ArtifactSpec", "Base", "Body", "Content", "ContentApp",
    "ContentArtifact", "DISTRIBUTION_FILTERS", "DigestMismatch", "Distribution", "DistributionBody",
    "DistributionInfo", "DownloadConfig", "DownloadError", "Downloader", "FilterSet", "JSONResponse",
    "NotFound", "PUBLICATION_FILTERS", "PluginSpec", "ProgressReport", "Publication",
    "PublishedArtifact", "REMOTE_FILTERS", "REPOSITORY_FILTERS", "Remote", "RemoteArtifact",
    "RemoteBody", "Repository", "RepositoryAddRemoveContent", "RepositoryBody", "RepositorySyncBody", "RepositoryContent", "RepositoryVersion",
    "ServeTarget", "StoredFile", "TaskContext", "TaskError", "TypedResource", "Unit", "Upload",
    "UploadChunk", "ValidationError", "add_and_remove", "after_create", "after_new_version",
    "base_fields", "bulk_insert", "check_base_path", "check_labels", "chunks", "collection_href", "commit_version",
    "content_ids_in", "content_serializer", "correlation_id", "dispatch_from_request",
    "distribution_columns", "distribution_serializer", "duplicates_validator", "get_object",
    "get_version", "href", "href_for", "iso", "latest_version", "listing", "load_settings",
    "lookup_artifacts", "lookup_units", "mount_prefix", "new_version", "newest_publication", "paginate",
    "prn", "publication_serializer", "read_body", "reading", "remote_columns", "remote_serializer",
    "replaced_by", "repository_columns", "repository_serializer", "require_user", "resolve",
    "resolve_field", "resolve_version", "runtime_of", "save_artifact", "save_artifacts", "save_units",
    "serve_publications", "serve_target", "serve_versions", "task_accepted", "typed_router",
    "upload_to_artifact", "user_id", "utcnow", "uuid7", "validate", "version_content_ids",
    "version_filters", "versions_router", "writing",
}


def test_plugin_api_names_are_pinned():
    assert set(pulpwood.plugin.__all__) == PINNED


def test_plugin_api_is_sorted_unique_and_importable():
    names = pulpwood.plugin.__all__
    assert names == sorted(names)
    assert len(names) == len(set(names))
    missing = [name for name in names if not hasattr(pulpwood.plugin, name)]
    assert missing == []


def test_plugins_register_through_the_entry_point():
    from pulpwood.registry import plugins

    labels = [spec.label for spec in plugins()]
    assert labels == ["file", "ostree"]
