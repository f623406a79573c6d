"""Task names (as Pulp records them) and the functions behind them.

Imports are lazy so the plugin loads even while a task module is still being written,
and so the API process does not import task code it never runs.
"""

from __future__ import annotations

SYNC_TASK = "pulp_ostree.app.tasks.synchronizing.synchronize"
MODIFY_TASK = "pulp_ostree.app.tasks.modifying.modify_content"
IMPORT_ALL_TASK = "pulp_ostree.app.tasks.importing.import_all_refs_and_commits"
IMPORT_COMMITS_TASK = "pulp_ostree.app.tasks.importing.import_child_commits"
CREATE_CONTENT_TASK = "pulp_ostree.app.tasks.content.create_ostree_content"


async def synchronize(ctx, **kwargs):
    from pulpwood_ostree.sync.task import synchronize as run

    return await run(ctx, **kwargs)


async def modify_content(ctx, **kwargs):
    from pulpwood_ostree.modify import modify_content as run

    return await run(ctx, **kwargs)


async def import_all_refs_and_commits(ctx, **kwargs):
    from pulpwood_ostree.importing import import_all_refs_and_commits as run

    return await run(ctx, **kwargs)


async def import_child_commits(ctx, **kwargs):
    from pulpwood_ostree.importing import import_child_commits as run

    return await run(ctx, **kwargs)


async def create_ostree_content(ctx, **kwargs):
    from pulpwood_ostree.modify import create_ostree_content as run

    return await run(ctx, **kwargs)


TASKS = {
    SYNC_TASK: synchronize,
    MODIFY_TASK: modify_content,
    IMPORT_ALL_TASK: import_all_refs_and_commits,
    IMPORT_COMMITS_TASK: import_child_commits,
    CREATE_CONTENT_TASK: create_ostree_content,
}
