"""The OSTree content types: commits, refs, objects, configs, summaries and deltas."""

from pulpwood.plugin import PluginSpec
from pulpwood_ostree import models  # noqa: F401  (maps the tables)

plugin_spec = PluginSpec(label="ostree", version="2.6.1", package="pulp-ostree", module="pulp_ostree.app")
