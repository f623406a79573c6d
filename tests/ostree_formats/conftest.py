"""Fixtures: the real ``ostree`` CLI and a fixture archive repository made with it."""

from __future__ import annotations

import functools

import pytest

from .support import (
    MAIN_REF,
    OTHER_REF,
    TIMESTAMP_A,
    TIMESTAMP_B,
    FixtureRepo,
    run_ostree,
    write_tree,
    xattrs_supported,
)


@pytest.fixture(scope="session")
def fixture_repo(tmp_path_factory: pytest.TempPathFactory) -> FixtureRepo:
    base = tmp_path_factory.mktemp("fixture")
    with_xattrs = xattrs_supported(base)
    repo = base / "repo"
    run_ostree("init", f"--repo={repo}", "--mode=archive")
    trees = {}
    for version in (1, 2):
        trees[version] = base / f"tree{version}"
        trees[version].mkdir()
        write_tree(trees[version], version, with_xattrs)
    commit = functools.partial(run_ostree, "commit", f"--repo={repo}")
    commit_a = commit(
        f"--branch={MAIN_REF}", f"--tree=dir={trees[1]}", "--subject=first",
        f"--timestamp=@{TIMESTAMP_A}",
    ).strip()
    commit_b = commit(
        f"--branch={MAIN_REF}", f"--tree=dir={trees[2]}", "--subject=second",
        "--body=with a body", "--add-metadata-string=version=2.0",
        f"--timestamp=@{TIMESTAMP_B}",
    ).strip()
    commit_other = commit(
        f"--branch={OTHER_REF}", f"--tree=dir={trees[1]}", "--subject=other ref",
        f"--timestamp=@{TIMESTAMP_A}", "--add-metadata-string=version=1.0",
    ).strip()
    return FixtureRepo(
        path=repo,
        commit_a=commit_a,
        commit_b=commit_b,
        commit_other=commit_other,
        tree_a=trees[1],
        tree_b=trees[2],
        with_xattrs=with_xattrs,
        refs={MAIN_REF: commit_b, OTHER_REF: commit_other},
    )
