"""Task names of the core, as Pulp names them (clients and tests look for these strings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_CORE: dict[str, Callable[..., Any]] = {}


def register(name: str):
    """Decorator: make a coroutine function(ctx, **kwargs) runnable as task `name`."""

    def wrap(function):
        _CORE[name] = function
        return function

    return wrap


def core_tasks() -> dict[str, Callable[..., Any]]:
    # Importing the services registers their tasks.
    import pulpwood.services.tasks  # noqa: F401
    try:
        import pulpwood.api.v2.tasks  # noqa: F401  (the Pulp 2 API's task functions)
    except ImportError:  # the v2 layer is optional; v3 tasks must run without it
        pass

    return _CORE
