"""The `file` content type: plain files described by a PULP_MANIFEST."""

from pulpwood.plugin import PluginSpec

plugin_spec = PluginSpec(label="file", version="3.123.1", package="pulpcore", module="pulp_file.app")
