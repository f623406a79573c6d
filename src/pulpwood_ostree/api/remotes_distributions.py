"""`remotes/ostree/ostree/` and `distributions/ostree/ostree/`."""

from __future__ import annotations

import contextvars
from fastapi import APIRouter, Depends, Request
from pydantic import Field, field_validator

from pulpwood.plugin import (
    DistributionBody, FilterSet, RemoteBody, TypedResource, check_base_path, distribution_columns,
    distribution_serializer, listing, remote_columns, resolve, remote_serializer, runtime_of, typed_router,
)
from pulpwood.plugin import Distribution, Remote
from pulpwood_ostree.models import OstreeDistribution, OstreeRemote, OstreeRepository

_settings: contextvars.ContextVar = contextvars.ContextVar("ostree_settings")


async def _remember_settings(request: Request) -> None:
    # Serializers get no request; the distribution's base_url needs CONTENT_ORIGIN.
    _settings.set(runtime_of(request).settings)


class OstreeRemoteBody(RemoteBody):
    policy: str = "immediate"
    # Project decision: ostree's own meaning, head plus `depth` parents; -1 = whole history.
    depth: int = Field(default=0, ge=-1)
    include_refs: list[str] | None = None
    exclude_refs: list[str] | None = None

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        # OSTree content is not streamed: "streamed" is refused as Pulp refuses it.
        if value not in ("immediate", "on_demand"):
            raise ValueError(f'"{value}" is not a valid choice.')
        return value

    @field_validator("include_refs", "exclude_refs")
    @classmethod
    def _patterns(cls, value):
        if value is None:
            return None
        for pattern in value:
            if len(pattern) > 255:
                raise ValueError("Ensure this field has no more than 255 characters.")
        return value


def _remote_extra(remote: OstreeRemote) -> dict:
    return {"depth": remote.depth if remote.depth is not None else 0, "include_refs": remote.include_refs,
            "exclude_refs": remote.exclude_refs}


REMOTE_FILTERS = FilterSet(
    filters={
        **listing.text_lookups("name", Remote.name),
        **listing.href_in(Remote),
        "pulp_label_select": listing.label_select(Remote.pulp_labels),
        **listing.datetime_lookups("pulp_last_updated", Remote.pulp_last_updated),
    },
    ordering={"name": Remote.name, "pulp_created": Remote.pulp_created, "pk": Remote.pulp_id,
              "pulp_last_updated": Remote.pulp_last_updated},
    default_order=[Remote.pulp_created.desc(), Remote.pulp_id.desc()],
)

DISTRIBUTION_FILTERS = FilterSet(
    filters={
        **listing.text_lookups("name", Distribution.name),
        **listing.text_lookups("base_path", Distribution.base_path),
        **listing.href_in(Distribution),
        "pulp_label_select": listing.label_select(Distribution.pulp_labels),
        "repository": listing.fk_filter("repository", Distribution.repository_id, OstreeRepository),
        "repository__in": lambda v: Distribution.repository_id.in_(
            [r.pulp_id for r in (resolve(x) for x in listing._split([v])) if r]),
        "checkpoint": listing.bool_lookup(Distribution.checkpoint),
    },
    ordering={"name": Distribution.name, "base_path": Distribution.base_path,
              "pulp_created": Distribution.pulp_created, "pk": Distribution.pulp_id},
    default_order=[Distribution.pulp_created.desc(), Distribution.pulp_id.desc()],
)


REMOTE = TypedResource(
    model=OstreeRemote, body=OstreeRemoteBody, serialize=remote_serializer(_remote_extra),
    columns=remote_columns, filters=REMOTE_FILTERS, create_mode="sync",
)

DISTRIBUTION = TypedResource(
    model=OstreeDistribution, body=DistributionBody,
    serialize=distribution_serializer(lambda: _settings.get()),
    columns=distribution_columns(OstreeRepository), filters=DISTRIBUTION_FILTERS,
    create_mode="task", check=check_base_path, unique_fields=("name", "base_path"),
)


def remote_distribution_routers() -> list[APIRouter]:
    outer = APIRouter(dependencies=[Depends(_remember_settings)])
    outer.include_router(typed_router(DISTRIBUTION))
    return [typed_router(REMOTE), outer]
