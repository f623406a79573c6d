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
    """Everything registered so far; the process entry point imports the modules that register
    (see pulpwood.server.load_task_functions), so this layer depends on none of them."""
    return _CORE
