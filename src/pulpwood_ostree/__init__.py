"""The OSTree content types: commits, refs, objects, configs, summaries and deltas."""

from pulpwood.plugin import PluginSpec

plugin_spec = PluginSpec(label="ostree", version="2.6.1", package="pulp-ostree", module="pulp_ostree.app")
