"""Reading an archive repository: refs, object walks and parent history."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pulpwood_ostree.formats import (
    FormatError,
    ObjectType,
    list_refs,
    object_path,
    parse_object_path,
    read_config,
    read_ref,
    walk_commit,
    walk_history,
)

from .support import MAIN_REF, FixtureRepo, run_ostree


def test_list_refs_matches_ostree_refs(fixture_repo: FixtureRepo) -> None:
    repo = fixture_repo.path
    refs = list_refs(repo)
    assert refs == fixture_repo.refs
    assert sorted(refs) == sorted(run_ostree(f"--repo={repo}", "refs").split())
    assert read_ref(repo, MAIN_REF) == fixture_repo.commit_b
    assert list_refs(repo, "remotes") == {}


def test_read_config(fixture_repo: FixtureRepo) -> None:
    config = read_config(fixture_repo.path)
    assert config.mode == "archive-z2" and config.is_archive


def test_walk_commit_covers_every_object_once(fixture_repo: FixtureRepo) -> None:
    repo = fixture_repo.path
    walked = []
    for head in fixture_repo.refs.values():
        for checksum, _commit in walk_history(repo, head, depth=-1):
            walked.extend(walk_commit(repo, checksum))
    on_disk = {
        path.relative_to(repo).as_posix() for path in (repo / "objects").glob("*/*")
    }
    assert {relative for _, _, relative in walked} == on_disk
    for checksum, objtype, relative in walked:
        assert parse_object_path(relative) == (checksum, objtype)

    single = list(walk_commit(repo, fixture_repo.commit_b))
    assert len(single) == len(set(single))
    assert single[0] == (
        fixture_repo.commit_b,
        ObjectType.COMMIT,
        object_path(fixture_repo.commit_b, ObjectType.COMMIT),
    )
    kinds = {objtype for _, objtype, _ in single}
    assert kinds == {ObjectType.COMMIT, ObjectType.DIR_TREE, ObjectType.DIR_META, ObjectType.FILE}


def test_walk_history_depths(fixture_repo: FixtureRepo, tmp_path: Path) -> None:
    repo = fixture_repo.path
    a, b = fixture_repo.commit_a, fixture_repo.commit_b

    def history(depth: int, where: Path = repo) -> list[str]:
        return [checksum for checksum, _ in walk_history(where, b, depth)]

    assert history(0) == [b]
    assert history(1) == [b, a]
    assert history(5) == [b, a]
    assert history(-1) == [b, a]

    partial = fixture_repo.copy_to(tmp_path / "partial")
    (partial / object_path(a, ObjectType.COMMIT)).unlink()
    assert history(-1, partial) == [b]


def test_nested_refs_and_bad_ref_files(fixture_repo: FixtureRepo, tmp_path: Path) -> None:
    repo = fixture_repo.copy_to(tmp_path / "repo")
    nested = repo / "refs/heads/deep/er/still"
    nested.parent.mkdir(parents=True)
    shutil.copy(repo / "refs/heads" / MAIN_REF, nested)
    assert list_refs(repo)["deep/er/still"] == fixture_repo.commit_b
    nested.write_text("not a checksum\n")
    with pytest.raises(FormatError):
        list_refs(repo)
