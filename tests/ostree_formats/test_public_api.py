"""The package facade re-exports a sorted, complete ``__all__``."""

from __future__ import annotations

import types

import pulpwood_ostree.formats as formats


def test_all_is_sorted_and_complete() -> None:
    assert formats.__all__ == sorted(formats.__all__)
    public = {
        name
        for name, value in vars(formats).items()
        if not name.startswith("_")
        and (not isinstance(value, types.ModuleType) or name == "gvariant")
    }
    assert public == set(formats.__all__)
