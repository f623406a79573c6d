"""Queue a v2 task: a core Task (run by the same workers) plus its v2 record (tags, type).

Every v2 task on a repository holds the exclusive resource `pulp2:repository:<id>`, and the
core repository's href too once there is one, so v2 and v3 work on it runs one at a time.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood import hrefs
from pulpwood.models import Repository, Task
from pulpwood.models.pulp2 import V2Repository, V2TaskRecord
from pulpwood.tasking.dispatch import dispatch


async def repo_resources(session: AsyncSession, repo: V2Repository) -> list[str]:
    resources = [f"pulp2:repository:{repo.repo_id}"]
    if repo.repository_id is not None:
        core = await session.get(Repository, repo.repository_id)
        if core is not None:
            resources.append(hrefs.href(core))
    return resources


async def dispatch_v2(session: AsyncSession, name: str, *, kwargs: dict, tags: list[str], task_type: str,
                      exclusive: list[str] = (), user_id: int | None = None, logging_cid: str = "",
                      parent_task_id=None) -> Task:
    task = dispatch(session, name, kwargs=kwargs, exclusive=exclusive, logging_cid=logging_cid,
                    created_by_id=user_id, parent_task_id=parent_task_id)
    await session.flush()
    session.add(V2TaskRecord(task_id=task.pulp_id, task_type=task_type, tags=list(tags), spawned=[]))
    await session.flush()
    return task
