"""The repository config (GKeyFile) reader and writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulpwood_ostree.formats import FormatError, RepoConfig, format_keyfile, parse_keyfile

from .support import run_ostree


def test_new_config_matches_ostree_init(tmp_path: Path) -> None:
    run_ostree("init", f"--repo={tmp_path / 'repo'}", "--mode=archive")
    text = (tmp_path / "repo" / "config").read_text()
    assert RepoConfig.new().to_text() == text
    config = RepoConfig.from_text(text)
    assert config.mode == "archive-z2" and config.is_archive
    assert config.tombstone_commits is False and config.indexed_deltas is False


def test_config_written_by_ostree_config_set(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    run_ostree("init", f"--repo={repo}", "--mode=archive")
    run_ostree(f"--repo={repo}", "config", "set", "core.indexed-deltas", "true")
    run_ostree(f"--repo={repo}", "config", "set", "core.collection-id", "org.example.Os")
    run_ostree(f"--repo={repo}", "remote", "add", "--no-gpg-verify", "up", "https://example.com")
    config = RepoConfig.from_text((repo / "config").read_text())
    assert config.indexed_deltas is True
    assert config.collection_id == "org.example.Os"
    assert config.get('remote "up"', "url") == "https://example.com"
    # Our writer's text is read back identically by ostree.
    (repo / "config").write_text(config.to_text())
    assert run_ostree(f"--repo={repo}", "config", "get", "core.collection-id").strip() == (
        "org.example.Os"
    )


def test_escapes_and_comments_round_trip() -> None:
    groups = {"core": {"mode": "archive", "odd": "  two\tlines\nback\\slash"}}
    text = format_keyfile(groups)
    assert parse_keyfile("# comment\n\n" + text) == groups
    assert parse_keyfile("[g]\n  key = value\n") == {"g": {"key": "value"}}


@pytest.mark.parametrize(
    "text", ["key=value\n", "[core\nmode=archive\n", "[core]\nno equals sign\n", "[c]\nk=\\q\n"]
)
def test_malformed_config(text: str) -> None:
    with pytest.raises(FormatError):
        RepoConfig.from_text(text)


def test_config_bool_errors() -> None:
    config = RepoConfig({"core": {"tombstone-commits": "maybe"}})
    with pytest.raises(FormatError):
        _ = config.tombstone_commits
    assert RepoConfig({}).mode == "bare"
