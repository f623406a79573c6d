"""Every object ``ostree commit`` wrote parses, checksums and re-serialises exactly."""

from __future__ import annotations

import hashlib
import io
import stat
import zlib
from pathlib import Path

import pytest

from pulpwood_ostree.formats import (
    Commit,
    DirMeta,
    DirTree,
    FilezVerifier,
    FormatError,
    ObjectType,
    content_checksum,
    encode_filez,
    filez_bytes_checksum,
    filez_checksum,
    object_path,
    parse_archive_header,
    parse_object_path,
    read_commit,
    read_dirmeta,
    read_dirtree,
    read_file_object,
    write_filez,
)

from .support import MAIN_REF, TIMESTAMP_A, TIMESTAMP_B, FixtureRepo, run_ostree

METADATA_CLASSES = {
    ObjectType.COMMIT: Commit,
    ObjectType.DIR_TREE: DirTree,
    ObjectType.DIR_META: DirMeta,
}


def all_objects(repo: Path) -> list[tuple[str, ObjectType, Path]]:
    found = []
    for path in sorted((repo / "objects").glob("*/*")):
        checksum, objtype = parse_object_path(path.relative_to(repo).as_posix())
        found.append((checksum, objtype, path))
    return found


def test_fixture_has_every_object_kind(fixture_repo: FixtureRepo) -> None:
    kinds = {objtype for _, objtype, _ in all_objects(fixture_repo.path)}
    assert kinds == {ObjectType.COMMIT, ObjectType.DIR_TREE, ObjectType.DIR_META, ObjectType.FILE}


def test_metadata_objects_checksum_and_round_trip(fixture_repo: FixtureRepo) -> None:
    for checksum, objtype, path in all_objects(fixture_repo.path):
        if objtype is ObjectType.FILE:
            continue
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == checksum
        parsed = METADATA_CLASSES[objtype].from_bytes(data)
        assert parsed.to_bytes() == data, path
        assert object_path(checksum, objtype) == path.relative_to(fixture_repo.path).as_posix()


@pytest.mark.parametrize("chunk_size", [7, 4096, 1 << 20])
def test_filez_incremental_verifier(fixture_repo: FixtureRepo, chunk_size: int) -> None:
    for checksum, objtype, path in all_objects(fixture_repo.path):
        if objtype is not ObjectType.FILE:
            continue
        data = path.read_bytes()
        if chunk_size == 7 and len(data) > 100_000:
            continue  # byte-sized feeding of the 1 MiB object adds nothing but time
        verifier = FilezVerifier()
        for start in range(0, len(data), chunk_size):
            verifier.update(data[start : start + chunk_size])
        assert verifier.finish() == checksum, path
        with path.open("rb") as stream:
            assert filez_checksum(stream) == checksum


def test_filez_rewrite_gives_same_checksum(fixture_repo: FixtureRepo) -> None:
    for checksum, objtype, _ in all_objects(fixture_repo.path):
        if objtype is not ObjectType.FILE:
            continue
        header, content = read_file_object(fixture_repo.path, checksum)
        assert content_checksum(header, content) == checksum
        assert content_checksum(header, io.BytesIO(content)) == checksum
        data, written_checksum = encode_filez(header, content)
        assert written_checksum == checksum
        parsed_header, size, offset = parse_archive_header(data)
        assert (parsed_header, size) == (header, len(content))
        assert header.is_symlink or zlib.decompress(data[offset:], -15) == content


def test_write_filez_streams_from_a_file(fixture_repo: FixtureRepo, tmp_path: Path) -> None:
    big = max(
        (entry for entry in all_objects(fixture_repo.path) if entry[1] is ObjectType.FILE),
        key=lambda entry: entry[2].stat().st_size,
    )
    header, content = read_file_object(fixture_repo.path, big[0])
    source = tmp_path / "content"
    source.write_bytes(b"skipped prefix" + content)
    with source.open("rb") as stream, (tmp_path / "out.filez").open("wb") as out:
        stream.seek(len(b"skipped prefix"))
        assert write_filez(out, header, stream) == big[0]
    with (tmp_path / "out.filez").open("rb") as written:
        assert filez_checksum(written) == big[0]


def test_commits_match_ostree_show(fixture_repo: FixtureRepo) -> None:
    repo = fixture_repo.path
    commit_b = read_commit(repo, fixture_repo.commit_b)
    commit_a = read_commit(repo, fixture_repo.commit_a)
    assert commit_b.parent == fixture_repo.commit_a
    assert commit_a.parent is None
    assert (commit_a.subject, commit_b.subject, commit_b.body) == ("first", "second", "with a body")
    assert (commit_a.timestamp, commit_b.timestamp) == (TIMESTAMP_A, TIMESTAMP_B)
    assert commit_b.version == "2.0" and commit_a.version is None
    shown = run_ostree(f"--repo={repo}", "show", "--print-metadata-key=version", MAIN_REF)
    assert shown.strip() == "'2.0'"
    assert run_ostree(f"--repo={repo}", "rev-parse", f"{MAIN_REF}^").strip() == commit_b.parent


def listing_from_objects(repo: Path, commit_checksum: str) -> set[str]:
    """Rebuild ``ostree ls -R`` lines (type+mode, uid, gid, size, path[, target])."""
    commit = read_commit(repo, commit_checksum)
    lines = set()
    pending = [("", commit.root_dirtree, commit.root_dirmeta)]
    while pending:
        prefix, tree_checksum, meta_checksum = pending.pop()
        meta = read_dirmeta(repo, meta_checksum)
        lines.add(f"d{stat.S_IMODE(meta.mode):05o} {meta.uid} {meta.gid} 0 {prefix or '/'}")
        tree = read_dirtree(repo, tree_checksum)
        for entry in tree.files:
            header, content = read_file_object(repo, entry.checksum)
            kind = "l" if header.is_symlink else "-"
            line = (
                f"{kind}{stat.S_IMODE(header.mode):05o} {header.uid} {header.gid} "
                f"{len(content)} {prefix}/{entry.name}"
            )
            lines.add(line + (f" -> {header.symlink_target}" if header.is_symlink else ""))
        pending.extend((f"{prefix}/{d.name}", d.tree_checksum, d.meta_checksum) for d in tree.dirs)
    return lines


def listing_from_ostree(repo: Path, ref: str) -> set[str]:
    output = run_ostree(f"--repo={repo}", "ls", "-R", ref)
    return {" ".join(line.split()) for line in output.splitlines() if line.strip()}


def test_trees_match_ostree_ls(fixture_repo: FixtureRepo) -> None:
    for commit in (fixture_repo.commit_a, fixture_repo.commit_b):
        expected = listing_from_ostree(fixture_repo.path, commit)
        assert listing_from_objects(fixture_repo.path, commit) == expected


def test_xattrs_match_ostree_ls(fixture_repo: FixtureRepo) -> None:
    if not fixture_repo.with_xattrs:
        pytest.skip("the temporary filesystem does not support user.* xattrs")
    repo = fixture_repo.path
    output = run_ostree(f"--repo={repo}", "ls", "-X", fixture_repo.commit_a, "/etc/labelled")
    assert "user.alpha" in output and "user.zeta" in output
    tree = read_dirtree(repo, read_commit(repo, fixture_repo.commit_a).root_dirtree)
    etc = next(d for d in tree.dirs if d.name == "etc")
    labelled = next(f for f in read_dirtree(repo, etc.tree_checksum).files if f.name == "labelled")
    header, _ = read_file_object(repo, labelled.checksum)
    assert header.xattrs == tuple(
        (name, b"value of " + name) for name in (b"user.alpha", b"user.mid", b"user.zeta")
    )
    a_dir = next(d for d in tree.dirs if d.name == "a")
    assert read_dirmeta(repo, a_dir.meta_checksum).xattrs == ((b"user.dir", b"directory label"),)


def test_object_path_helpers() -> None:
    checksum = "ab" + "0" * 62
    assert object_path(checksum, ObjectType.FILE) == f"objects/ab/{'0' * 62}.filez"
    assert object_path(checksum, ObjectType.FILE, archive=False).endswith(".file")
    assert object_path(checksum, ObjectType.COMMIT_META).endswith(".commitmeta")
    assert parse_object_path(f"objects/ab/{'0' * 62}.tombstone-commit") == (
        checksum,
        ObjectType.TOMBSTONE_COMMIT,
    )


def test_whole_filez_checksum_agrees_with_the_streaming_verifier(fixture_repo: FixtureRepo) -> None:
    # The in-memory shortcut must give ostree's checksum for every kind of content object
    # ostree wrote (regular, executable, empty, symlink, with xattrs where supported).
    objects = [(c, p) for c, t, p in all_objects(fixture_repo.path) if t is ObjectType.FILE]
    assert any(stat.S_ISLNK(parse_archive_header(p.read_bytes())[0].mode) for _, p in objects)
    for checksum, path in objects:
        assert filez_bytes_checksum(path.read_bytes()) == checksum


def test_whole_filez_checksum_refuses_what_the_verifier_refuses(fixture_repo: FixtureRepo) -> None:
    regular = next(p for c, t, p in all_objects(fixture_repo.path)
                   if t is ObjectType.FILE and parse_archive_header(p.read_bytes())[1] > 100)
    data = regular.read_bytes()
    header, size, offset = parse_archive_header(data)
    payload = zlib.decompress(data[offset:], -15)
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
    longer = data[:offset] + deflater.compress(payload + b"x") + deflater.flush()
    broken = {
        "truncated": data[:-5],
        "garbage after the stream": data + b"junk",
        "inflates beyond the declared size": longer,
        "truncated header": data[:offset - 3],
        "flipped payload byte": data[:offset + 5] + bytes([data[offset + 5] ^ 0xFF]) + data[offset + 6:],
    }
    for what, bad in broken.items():
        try:
            streamed = FilezVerifier()
            streamed.update(bad)
            expected = streamed.finish()
        except FormatError:
            with pytest.raises(FormatError):
                filez_bytes_checksum(bad)
        else:
            assert filez_bytes_checksum(bad) == expected, what
