"""The `file` content type: plain files described by a PULP_MANIFEST."""

from pulpwood.plugin import ADD_AND_REMOVE, PluginSpec, add_and_remove, serve_publications


def _router():
    from pulpwood_file.api import file_router

    return file_router()


def _tasks() -> dict:
    from pulpwood_file.content import CREATE_CONTENT, create_file_content
    from pulpwood_file.publishing import PUBLISH, publish
    from pulpwood_file.synchronizing import SYNCHRONIZE, synchronize

    return {SYNCHRONIZE: synchronize, PUBLISH: publish, CREATE_CONTENT: create_file_content,
            ADD_AND_REMOVE: add_and_remove}


# Importing the models maps them before any query runs.
from pulpwood_file import models  # noqa: E402,F401

plugin_spec = PluginSpec(label="file", version="3.123.1", package="pulpcore", module="pulp_file.app",
                         tasks=_tasks(), v3_routers=(_router,),
                         # File distributions serve publications only (Pulp's rule).
                         content_resolvers={"file.file": serve_publications})
