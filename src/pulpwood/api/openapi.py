"""`docs/api.json`: the OpenAPI document clients bootstrap from.

pulp-glue and the generated bindings look operations up by their exact operationIds and
path-parameter names, so we serve the Pulp 3.123.1 document itself (shipped with the
package), cut down to the operations this server actually routes, with our component
versions in `info.x-pulp-app-versions`.
"""

from __future__ import annotations

import copy
import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

from starlette.routing import Match

from pulpwood.registry import component_versions

REFERENCE = Path(__file__).with_name("openapi_reference.json.gz")
SAMPLE_ID = "01234567-89ab-7def-8123-456789abcdef"
REFERENCE_ROOT = "/pulp/"


@lru_cache(maxsize=1)
def _reference() -> dict:
    with gzip.open(REFERENCE, "rt") as handle:
        return json.load(handle)


def _collections_by_tag(paths: dict) -> dict[str, str]:
    """Tag -> collection path, taken from list/create operations on paths ending in '/'."""
    found: dict[str, str] = {}
    for path, ops in paths.items():
        for method in ("get", "post"):
            op = ops.get(method)
            if op and op.get("operationId", "").endswith(("_list", "_create")):
                for tag in op.get("tags", []):
                    found.setdefault(tag, path)
    return found


def _concrete(path: str, by_param: dict[str, str], depth: int = 0) -> str | None:
    """A sample URL for a spec path: `{x_href}` is replaced by a sample object href."""
    match = re.match(r"^\{(\w+_href)\}(.*)$", path)
    if not match:
        return path.replace("{pulp_domain}/", "")
    collection = by_param.get(match[1])
    if collection is None or depth > 3:
        return None
    base = _concrete(collection, by_param, depth + 1)
    if base is None:
        return None
    if collection.endswith("versions/"):
        return f"{base}1/{match[2]}"
    return f"{base}{SAMPLE_ID}/{match[2]}"


def _href_params(paths: dict) -> dict[str, str]:
    by_tag = _collections_by_tag(paths)
    params: dict[str, str] = {}
    for path, ops in paths.items():
        match = re.match(r"^\{(\w+_href)\}$", path)
        if not match:
            continue
        for op in ops.values():
            if isinstance(op, dict):
                for tag in op.get("tags", []):
                    if tag in by_tag:
                        params.setdefault(match[1], by_tag[tag])
    return params


def _routed(app, method: str, url: str) -> bool:
    scope = {"type": "http", "path": url, "method": method.upper(), "root_path": ""}
    for route in app.router.routes:
        matched, _ = route.matches(scope)
        if matched == Match.FULL:
            return True
    return False


def build_document(app, api_root: str) -> dict:
    reference = _reference()
    by_param = _href_params(reference["paths"])
    paths = {}
    for path, ops in reference["paths"].items():
        sample = _concrete(path, by_param)
        if sample is None:
            continue
        sample = api_root + sample[len(REFERENCE_ROOT):] if sample.startswith(REFERENCE_ROOT) else sample
        kept = {m: op for m, op in ops.items() if m == "parameters" or _routed(app, m, sample)}
        if any(m != "parameters" for m in kept):
            served = api_root + path[len(REFERENCE_ROOT):] if path.startswith(REFERENCE_ROOT) else path
            paths[served] = kept
    document = {key: copy.deepcopy(value) for key, value in reference.items() if key != "paths"}
    document["paths"] = paths
    _widen_ostree_depth(document)
    document["info"]["x-pulp-app-versions"] = component_versions()
    document["info"]["x-pulp-domain-enabled"] = False
    return document


def _widen_ostree_depth(document: dict) -> None:
    """Our ostree remotes take depth -1 (whole history, as `ostree pull --depth=-1`).

    pulp-glue validates bodies against this document before sending, so the reference's
    minimum of 0 would refuse `pulp ostree remote create --depth -1` client-side.
    """
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        depth = schema.get("properties", {}).get("depth")
        if name.endswith("ostree.OstreeRemote") or name.endswith("ostree.OstreeRemoteResponse"):
            if depth is not None:
                depth["minimum"] = -1
