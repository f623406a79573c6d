"""Summaries: read what ``ostree summary -u`` writes; write ones real clients accept."""

from __future__ import annotations

from pathlib import Path

from pulpwood_ostree.formats import (
    ObjectType,
    Summary,
    build_summary,
    list_refs,
    read_commit,
    read_object,
)

from .support import MAIN_REF, OTHER_REF, FixtureRepo, run_ostree, serve_directory


def refs_with_commits(repo: Path) -> dict[str, tuple[str, bytes]]:
    return {
        name: (checksum, read_object(repo, checksum, ObjectType.COMMIT))
        for name, checksum in list_refs(repo).items()
    }


def test_parse_ostree_summary(fixture_repo: FixtureRepo, tmp_path: Path) -> None:
    repo = fixture_repo.copy_to(tmp_path / "repo")
    run_ostree(f"--repo={repo}", "summary", "-u")
    summary = Summary.from_bytes((repo / "summary").read_bytes())

    names = run_ostree(f"--repo={repo}", "refs").split()
    assert [ref.name for ref in summary.refs] == sorted(names)
    for ref in summary.refs:
        assert ref.checksum == run_ostree(f"--repo={repo}", "rev-parse", ref.name).strip()
        commit_file = repo / "objects" / ref.checksum[:2] / f"{ref.checksum[2:]}.commit"
        assert ref.commit_size == commit_file.stat().st_size
        assert ref.timestamp == read_commit(repo, ref.checksum).timestamp
    versions = {ref.name: ref.version for ref in summary.refs}
    assert versions == {MAIN_REF: "2.0", OTHER_REF: "1.0"}
    assert summary.mode == "archive-z2"
    assert summary.tombstone_commits is False
    assert summary.indexed_deltas is True
    assert summary.static_deltas == {}
    assert summary.last_modified is not None and summary.last_modified > 1_600_000_000
    assert summary.to_bytes() == (repo / "summary").read_bytes()


def test_build_summary_is_byte_identical_to_ostree(
    fixture_repo: FixtureRepo, tmp_path: Path
) -> None:
    repo = fixture_repo.copy_to(tmp_path / "repo")
    run_ostree(f"--repo={repo}", "static-delta", "generate", "--disable-bsdiff",
               "--min-fallback-size=1", f"--to={fixture_repo.commit_b}")
    run_ostree(f"--repo={repo}", "summary", "-u")
    theirs = (repo / "summary").read_bytes()
    parsed = Summary.from_bytes(theirs)
    assert list(parsed.static_deltas) == [f"{fixture_repo.commit_a}-{fixture_repo.commit_b}"]

    ours = build_summary(refs_with_commits(repo), parsed.static_deltas, parsed.last_modified)
    assert ours == theirs


def test_build_summary_is_deterministic(fixture_repo: FixtureRepo) -> None:
    refs = refs_with_commits(fixture_repo.path)
    reordered = dict(reversed(list(refs.items())))
    assert build_summary(refs, {}, 5) == build_summary(reordered, {}, 5)
    assert build_summary(refs, {}, 5) != build_summary(refs, {}, 6)


def test_client_mirrors_with_our_summary(fixture_repo: FixtureRepo, tmp_path: Path) -> None:
    server = fixture_repo.copy_to(tmp_path / "server")
    (server / "summary").write_bytes(build_summary(refs_with_commits(server), {}, 1_700_000_123))

    view = run_ostree(f"--repo={server}", "summary", "--view")
    for name, checksum in fixture_repo.refs.items():
        assert name in view and checksum in view

    mirror = tmp_path / "mirror"
    run_ostree("init", f"--repo={mirror}", "--mode=archive")
    with serve_directory(server) as served:
        run_ostree(f"--repo={mirror}", "remote", "add", "--no-gpg-verify", "origin", served.url)
        remote_refs = run_ostree(f"--repo={mirror}", "remote", "refs", "origin").split()
        assert sorted(remote_refs) == sorted(f"origin:{name}" for name in fixture_repo.refs)
        run_ostree(f"--repo={mirror}", "pull", "--mirror", "--depth=-1", "origin")
        assert "/summary" in served.requested
    run_ostree(f"--repo={mirror}", "fsck")
    assert list_refs(mirror) == fixture_repo.refs
    assert read_commit(mirror, fixture_repo.commit_b).parent == fixture_repo.commit_a
