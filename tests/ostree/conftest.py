"""Fixtures for the ostree plugin tests: repositories made with the real `ostree` CLI."""

from __future__ import annotations

import shutil

import pytest

from .support import LocalRepo


def pytest_collection_modifyitems(items):
    if shutil.which("ostree") is None:  # pragma: no cover - the CI image has it
        for item in items:
            item.add_marker(pytest.mark.skip(reason="the ostree CLI is not installed"))


@pytest.fixture(scope="module")
def two_ref_repo(tmp_path_factory) -> LocalRepo:
    """`stable` with 3 commits of history, `rawhide` with 1 commit."""
    repo = LocalRepo.create(tmp_path_factory.mktemp("two-ref"))
    for number in range(3):
        repo.commit("stable", version=f"1.{number}")
    repo.commit("rawhide")
    return repo
