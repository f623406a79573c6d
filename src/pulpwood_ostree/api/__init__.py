"""The ostree plugin's /pulp/api/v3/ routes (exact reference URLs and methods)."""

from fastapi import APIRouter


def v3_router() -> APIRouter:
    from pulpwood_ostree.api.content import content_routers
    from pulpwood_ostree.api.remotes_distributions import remote_distribution_routers
    from pulpwood_ostree.api.repositories import repository_routers

    router = APIRouter()
    for sub in (*repository_routers(), *remote_distribution_routers(), *content_routers()):
        router.include_router(sub)
    return router
