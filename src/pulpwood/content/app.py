"""Content app placeholder: mounted at CONTENT_PATH_PREFIX."""

from __future__ import annotations


def mount_content(app, runtime) -> None:
    return None
