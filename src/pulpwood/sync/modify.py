"""The generic modify task (`POST {repo}modify/`), shared by every repository type.

Removal happens before addition; units added replace present units with the same
repository key (unless `overwrite` is false, then the task refuses); a repository type may
react to the new version through an `on_new_version(session, storage, version)` method
(file: autopublish), which returns the hrefs it created.
"""

from __future__ import annotations

import uuid

from pulpwood import hrefs
from pulpwood.errors import TaskError
from pulpwood.models import Repository
from pulpwood.queries.versions import latest_version
from pulpwood.services.versions import commit_version
from pulpwood.sync.dedupe import duplicates_validator, replaced_by

ADD_AND_REMOVE = "pulpcore.app.tasks.repository.add_and_remove"


async def after_new_version(ctx, session, repository, version) -> None:
    """Record the version as created and let the repository type react to it."""
    ctx.created(hrefs.version_href(repository, version.number))
    hook = getattr(repository, "on_new_version", None)
    if hook is not None:
        for created in await hook(session, ctx.storage, version):
            ctx.created(created)


async def new_version(ctx, session, repository, *, add: set[uuid.UUID] = frozenset(),
                      remove: set[uuid.UUID] = frozenset(), remove_all: bool = False,
                      base_version_number: int | None = None, overwrite: bool = True):
    """Commit `base - remove + add` (displaced same-key units removed) and run the hooks.

    Returns the new version, or None when nothing changed. Call inside ctx.transaction().
    """
    latest = await latest_version(session, repository.pulp_id)
    start = latest.number if base_version_number is None else base_version_number
    displaced = set() if remove_all else await replaced_by(session, repository.pulp_id, start, set(add)) - set(remove)
    if displaced and not overwrite:
        raise TaskError(
            f"[PLP0023] Content overwrite rejected: {len(displaced)} unit(s) already in the repository "
            "share a repository key (e.g. relative_path) with the units being added.")
    version = await commit_version(session, repository.pulp_id, add=set(add), remove=set(remove) | displaced,
                                   remove_all=remove_all, base_number=base_version_number,
                                   validator=duplicates_validator)
    if version is not None:
        await after_new_version(ctx, session, repository, version)
    return version


async def add_and_remove(ctx, repository_pk: str, add_content_units: list[str] = (),
                         remove_content_units: list[str] = (), base_version_number: int | None = None,
                         overwrite: bool = True) -> None:
    remove_all = "*" in remove_content_units
    async with ctx.transaction() as session:
        repository = await session.get(Repository, uuid.UUID(repository_pk))
        if repository is None:
            raise TaskError("The repository was deleted before the task ran.")
        # Loaded through the master table: fetch the type's own columns too (e.g. autopublish).
        await session.refresh(repository)
        await new_version(ctx, session, repository, add={uuid.UUID(pk) for pk in add_content_units},
                          remove=set() if remove_all else {uuid.UUID(pk) for pk in remove_content_units},
                          remove_all=remove_all, base_version_number=base_version_number, overwrite=overwrite)
