"""Placeholder router; filled in by the core completion work."""

from fastapi import APIRouter, Depends

from pulpwood.api.deps import require_user

router = APIRouter(dependencies=[Depends(require_user)])
