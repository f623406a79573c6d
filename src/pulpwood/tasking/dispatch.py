"""Dispatch: write a task row, with its resource claims, in the caller's own transaction.

Because the row is written in the same transaction as the request's other changes, a task
exists exactly when the request that asked for it succeeded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.models import Task

# Every task shares the (single) domain, as Pulp records it.
DEFAULT_DOMAIN_RESOURCE = "pdrn:default"


def dispatch(
    session: AsyncSession,
    name: str,
    *,
    kwargs: dict | None = None,
    exclusive: Iterable[str] = (),
    shared: Iterable[str] = (),
    logging_cid: str = "",
    created_by_id: int | None = None,
    task_group_id: uuid.UUID | None = None,
    parent_task_id: uuid.UUID | None = None,
) -> Task:
    exclusive = list(dict.fromkeys(exclusive))
    shared = [r for r in dict.fromkeys(shared) if r not in exclusive]
    task = Task(
        name=name,
        kwargs=kwargs or {},
        exclusive_resources=exclusive,
        shared_resources=[*shared, DEFAULT_DOMAIN_RESOURCE],
        # Plain hrefs, shared ones included, as the Pulp the seeds recorded shows them.
        reserved_resources_record=[*exclusive, *shared],
        logging_cid=logging_cid or uuid.uuid4().hex,
        created_by_id=created_by_id,
        task_group_id=task_group_id,
        parent_task_id=parent_task_id,
    )
    session.add(task)
    return task
