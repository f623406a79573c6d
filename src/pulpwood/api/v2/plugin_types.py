"""The importer and distributor types the v2 API knows, and how each validates its config.

Each type names the core repository kind it needs ("file" or "ostree") and the v2 unit type
its content shows as. Unknown config keys are refused (400) so a typo never goes unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pulpwood.api.v2.errors import PulpDataException

SECRET_KEYS = ("basic_auth_password", "proxy_password")
MASK = "*****"

TLS_PROXY_AUTH = ("ssl_ca_cert", "ssl_client_cert", "ssl_client_key", "ssl_validation", "proxy_host",
                  "proxy_port", "proxy_username", "proxy_password", "basic_auth_username",
                  "basic_auth_password")


@dataclass(frozen=True)
class UnitType:
    id: str
    display_name: str
    description: str
    unit_key: tuple[str, ...]
    search_indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PluginType:
    id: str
    display_name: str
    types: tuple[str, ...]
    kind: str  # core repository kind: "file" or "ostree"
    unit_type: str  # v2 unit type of the repository's content
    keys: frozenset[str]
    check: Callable[[dict, dict], None] = field(default=lambda config, context: None)

    def validate(self, config: dict, context: dict | None = None) -> None:
        """Raise PulpDataException (400) when the type refuses `config`."""
        unknown = sorted(set(config) - self.keys)
        if unknown:
            raise PulpDataException(f"Configuration key(s) not supported by {self.id}: {', '.join(unknown)}")
        self.check(config, context or {})


UNIT_TYPES = {t.id: t for t in (
    UnitType("ostree", "OSTree", "OSTree Content", ("remote_id", "branch", "commit")),
    UnitType("iso", "ISO", "ISO", ("name", "checksum", "size")),
    UnitType("harness_type_one", "Harness Type One", "Unit type used by the harness plugins", ("name",),
             ("search_1", "search_2")),
    UnitType("harness_type_two", "Harness Type Two", "Unit type used by the harness plugins",
             ("name", "version")),
)}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PulpDataException(message)


def _is_bool(value) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false"))


def _is_int(value, minimum: int | None = None) -> bool:
    if isinstance(value, bool):
        return False
    try:
        number = int(value)
    except (TypeError, ValueError):
        return False
    return minimum is None or number >= minimum


def _network(config: dict) -> None:
    if "feed" in config:
        _require(isinstance(config["feed"], str) and config["feed"].strip() != "",
                 "The configuration value for the key feed must be a non-empty string.")
    for key in ("ssl_validation", "validate", "remove_missing", "repair"):
        if key in config:
            _require(_is_bool(config[key]), f"The configuration value for the key {key} must be a boolean.")
    for key in ("proxy_port", "max_downloads", "max_speed"):
        if key in config:
            _require(_is_int(config[key], 0), f"The configuration value for the key {key} must be an integer.")
    for key in ("ssl_ca_cert", "ssl_client_cert", "ssl_client_key", "proxy_host", "proxy_username",
                "proxy_password", "basic_auth_username", "basic_auth_password"):
        if key in config:
            _require(isinstance(config[key], str), f"The configuration value for the key {key} must be a string.")


def _ostree_importer(config: dict, context: dict) -> None:
    _network(config)
    if "branches" in config:
        branches = config["branches"]
        _require(branches is None or (isinstance(branches, list) and all(isinstance(b, str) for b in branches)),
                 "The configuration value for the key branches must be a list of strings.")
    if "depth" in config:
        _require(_is_int(config["depth"], -1), "The configuration value for the key depth must be an integer >= -1.")


def _iso_importer(config: dict, context: dict) -> None:
    _network(config)
    if "download_policy" in config:
        _require(config["download_policy"] in ("immediate", "on_demand", "background"),
                 "The download_policy must be one of immediate, on_demand or background.")


def _harness_importer(config: dict, context: dict) -> None:
    _require("num_units" in config, "The configuration key num_units is required.")
    _require(_is_int(config["num_units"], 0), "The configuration value for num_units must be a number.")
    if "write_files" in config:
        _require(_is_bool(config["write_files"]), "The configuration value for write_files must be true or false.")
    if "sync_delay_in_seconds" in config:
        _require(_is_int(config["sync_delay_in_seconds"], 0), "sync_delay_in_seconds must be a number.")


def _harness_distributor(config: dict, context: dict) -> None:
    if "write_files" in config:
        _require(_is_bool(config["write_files"]), "The configuration value for write_files must be true or false.")
    if "publish_delay_in_seconds" in config:
        _require(_is_int(config["publish_delay_in_seconds"], 0), "publish_delay_in_seconds must be a number.")
    if "publish_dir" in config:
        value = config["publish_dir"]
        _require(isinstance(value, str) and value.startswith("/"), "publish_dir must be an absolute path.")
        root = Path(context["publish_root"]).resolve()
        target = Path(value).resolve()
        _require(target == root or root in target.parents,
                 f"publish_dir {value} must lie under the publish root {root}.")


def _path_conflicts(mine: str, other: str) -> bool:
    a, b = mine.strip("/").split("/"), other.strip("/").split("/")
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _relative(key: str):
    def check(config: dict, context: dict) -> None:
        if key in config:
            value = config[key]
            _require(isinstance(value, str) and value.strip("/") != "" and ".." not in value.split("/"),
                     f"The configuration value for {key} must be a relative path.")
        mine = str(config.get(key) or context.get("repo_id", "")).strip("/")
        for repo_id, other in context.get("others", []):
            if _path_conflicts(mine, other):
                raise PulpDataException(
                    f"Relative path [{mine}] for repository [{context.get('repo_id')}] conflicts with "
                    f"existing relative path [{other}] for repository [{repo_id}]")
        for key_bool in ("serve_http", "serve_https"):
            if key_bool in config:
                _require(_is_bool(config[key_bool]), f"The configuration value for {key_bool} must be a boolean.")
        if "depth" in config:
            _require(_is_int(config["depth"], -1), "The configuration value for depth must be an integer >= -1.")
    return check


IMPORTERS = {t.id: t for t in (
    PluginType("ostree_web_importer", "OSTree Web Importer", ("ostree",), "ostree", "ostree",
               frozenset({"feed", "branches", "depth", "gpg_keys", "repair", "max_downloads", "max_speed",
                          *TLS_PROXY_AUTH}), _ostree_importer),
    PluginType("iso_importer", "ISO Importer", ("iso",), "file", "iso",
               frozenset({"feed", "max_downloads", "max_speed", "validate", "remove_missing",
                          "download_policy", *TLS_PROXY_AUTH}), _iso_importer),
    PluginType("harness_importer", "Harness Importer", ("harness_type_one", "harness_type_two"), "file",
               "harness_type_one", frozenset({"num_units", "write_files", "sync_delay_in_seconds"}),
               _harness_importer),
)}

DISTRIBUTORS = {t.id: t for t in (
    PluginType("ostree_web_distributor", "OSTree Web Distributor", ("ostree",), "ostree", "ostree",
               frozenset({"relative_path", "depth"}), _relative("relative_path")),
    PluginType("iso_distributor", "ISO Distributor", ("iso",), "file", "iso",
               frozenset({"relative_url", "serve_http", "serve_https", "ssl_auth_ca_cert"}),
               _relative("relative_url")),
    PluginType("harness_distributor", "Harness Distributor", ("harness_type_one", "harness_type_two"), "file",
               "harness_type_one", frozenset({"publish_dir", "write_files", "publish_delay_in_seconds"}),
               _harness_distributor),
)}

# Distributor type -> the config key that names where it is served.
PATH_KEYS = {"ostree_web_distributor": "relative_path", "iso_distributor": "relative_url"}


def masked(config: dict) -> dict:
    return {k: (MASK if k in SECRET_KEYS and v else v) for k, v in config.items()}


def merged(current: dict, changes: dict) -> dict:
    """Merge a config update: `null` removes a key, anything else replaces it."""
    out = dict(current)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def as_bool(value, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)
