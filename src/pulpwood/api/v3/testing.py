"""A test-only route that dispatches the test sleep task; mounted only when PULPWOOD_TEST_TASKS=1."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from pulpwood.api.body import read_body
from pulpwood.api.deps import require_user
from pulpwood.api.dispatching import dispatch_from_request
from pulpwood.api.responses import JSONResponse
from pulpwood.errors import ValidationError

router = APIRouter(dependencies=[Depends(require_user)])


@router.post("/test/sleep/")
async def dispatch_sleep(request: Request) -> JSONResponse:
    from pulpwood.services.testing_tasks import SLEEP

    body = await read_body(request)
    try:
        seconds = float(body.get("seconds", 1))
    except (TypeError, ValueError):
        raise ValidationError({"seconds": ["A valid number is required."]}) from None
    exclusive = body.get("exclusive") or []
    shared = body.get("shared") or []
    if not all(isinstance(x, list) and all(isinstance(r, str) for r in x) for x in (exclusive, shared)):
        raise ValidationError({"non_field_errors": ["exclusive and shared must be lists of strings."]})
    return await dispatch_from_request(request, SLEEP, kwargs={"seconds": seconds, "fail": bool(body.get("fail"))},
                                       exclusive=exclusive, shared=shared)
