"""The Pulp 2 web paths: `/pulp/ostree/web/<relative_path>/` and `/pulp/isos/<relative_url>/`.

A v2 distributor owns a core distribution at base path `pulp2/<ostree|iso>/<path>`; these
prefixes map the v2 path onto it and let the content app answer (so `/pulp/content/pulp2/…`
serves the same bytes).
"""

from __future__ import annotations

from pulpwood.content.app import mount_prefix
from pulpwood.content.targets import find_distribution, resolver_for

PREFIXES = {"/pulp/ostree/web/": "pulp2/ostree/", "/pulp/isos/": "pulp2/iso/"}


def _lookup(base: str):
    async def lookup(session, candidates: list[str], path):
        distribution = await find_distribution(session, [base + c for c in candidates])
        if distribution is None:
            return None
        matched = distribution.base_path[len(base):]
        rest = path.text[len(matched) + 1:]
        target = await resolver_for(distribution.pulp_type)(session, distribution, rest)
        return matched, target
    return lookup


def mount_v2_content(app, runtime) -> None:
    for prefix, base in PREFIXES.items():
        mount_prefix(app, runtime, prefix, _lookup(base))
