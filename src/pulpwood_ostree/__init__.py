"""The `ostree` content type: OSTree repositories synced, imported, modified and served."""

from pulpwood.plugin import PluginSpec
from pulpwood_ostree import models  # noqa: F401  (maps the tables)
from pulpwood_ostree.api import v3_router
from pulpwood_ostree.tasks import TASKS

plugin_spec = PluginSpec(label="ostree", version="2.6.1", package="pulp-ostree", module="pulp_ostree.app",
                         tasks=TASKS, v3_routers=(v3_router,))
