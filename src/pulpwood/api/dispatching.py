"""Dispatch from a request, and run the task right away in this process when it is free.

Pulp runs short object updates and deletes "immediately" when their resources are free;
the client still gets 202 and a task, which is then usually already complete.
"""

from __future__ import annotations

from fastapi import Request

from pulpwood import hrefs
from pulpwood.api.deps import correlation_id, runtime_of, user_id
from pulpwood.api.responses import JSONResponse, task_accepted
from pulpwood.tasking.dispatch import dispatch
from pulpwood.tasking.runner import execute
from pulpwood.tasking.scheduler import claim


async def dispatch_from_request(
    request: Request, name: str, *, kwargs: dict, exclusive=(), shared=(), immediate: bool = False,
    session=None,
) -> JSONResponse:
    runtime = runtime_of(request)
    fields = dict(kwargs=kwargs, exclusive=exclusive, shared=shared,
                  logging_cid=correlation_id(request), created_by_id=user_id(request))
    if session is not None:
        task = dispatch(session, name, **fields)
        await session.flush()
        return task_accepted(hrefs.href(task))
    async with runtime.write_session() as session:
        async with session.begin():
            task = dispatch(session, name, **fields)
    if immediate:
        await run_now_if_free(request, task.pulp_id)
    return task_accepted(hrefs.href(task))


async def run_now_if_free(request: Request, task_id) -> bool:
    runtime = runtime_of(request)
    async with runtime.write_session() as session:
        async with session.begin():
            claimed = await claim(session, runtime.app_status_id, only=task_id)
    if claimed is None:
        return False
    await execute(runtime, task_id)
    return True
