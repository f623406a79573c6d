"""A repository written entirely by our code passes ``ostree fsck`` and checks out exactly."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

from pulpwood_ostree.formats import (
    Directory,
    RegularFile,
    RepoConfig,
    Symlink,
    Variant,
    build_commit,
    build_summary,
    read_commit,
)
from pulpwood_ostree.formats.commit_builder import write_repo_files

from .support import FixtureRepo, run_ostree, xattrs_supported

REF = "pulpwood/written"
LOCAL_DIRS = ("tmp", "refs/heads", "refs/remotes", "refs/mirrors", "state", "extensions")


def sample_tree(version: int, with_xattrs: bool) -> Directory:
    xattrs = ((b"user.origin", b"pulpwood"), (b"user.a", b"first")) if with_xattrs else ()
    return Directory(
        {
            "usr": Directory(
                {
                    "bin": Directory({"tool": RegularFile(b"#!/bin/sh\necho hi\n", mode=0o755)}),
                    "share": Directory(
                        {"doc": Directory({"README": RegularFile(f"v{version}\n".encode())})}
                    ),
                }
            ),
            "etc": Directory(
                {
                    "empty": RegularFile(b""),
                    "link": Symlink("../usr/share/doc/README"),
                    "dangling": Symlink("/does/not/exist"),
                    "labelled": RegularFile(b"x\n", xattrs=xattrs),
                }
            ),
            "private": Directory({}, mode=0o700, xattrs=xattrs),
            "big.bin": RegularFile(random.Random(7).randbytes((1 << 20) + 99), mode=0o600),
            "ünïcode name": RegularFile(b"utf-8 names sort by bytes\n"),
            "Zebra": RegularFile(b"upper case sorts first\n"),
        }
    )


def assert_checkout_matches(root: Path, tree: Directory, with_xattrs: bool) -> None:
    assert sorted(os.listdir(root)) == sorted(tree.entries)
    for name, entry in tree.entries.items():
        path = root / name
        info = path.lstat()
        if isinstance(entry, Directory):
            assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == entry.mode
            assert_checkout_matches(path, entry, with_xattrs)
        elif isinstance(entry, Symlink):
            assert stat.S_ISLNK(info.st_mode) and os.readlink(path) == entry.target
        else:
            assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == entry.mode
            assert path.read_bytes() == entry.content
        if with_xattrs and not isinstance(entry, Symlink):
            found = {n.encode(): os.getxattr(path, n) for n in os.listxattr(path)
                     if n.startswith("user.")}
            assert found == dict(entry.xattrs)


def test_repository_written_by_us(tmp_path: Path) -> None:
    with_xattrs = xattrs_supported(tmp_path)
    repo = tmp_path / "repo"
    first = build_commit(sample_tree(1, with_xattrs), subject="one", timestamp=1_600_000_000)
    second_tree = sample_tree(2, with_xattrs)
    second = build_commit(
        second_tree,
        subject="two",
        body="second commit",
        timestamp=1_600_000_100,
        parent=first.checksum,
        metadata={"version": Variant("s", "2")},
    )
    files = {**first.objects, **second.objects}
    files["config"] = RepoConfig.new().to_text().encode()
    files[f"refs/heads/{REF}"] = f"{second.checksum}\n".encode()
    files["summary"] = build_summary({REF: (second.checksum, second.commit_bytes)}, {}, 1)
    write_repo_files(repo, files)
    for directory in LOCAL_DIRS:
        (repo / directory).mkdir(parents=True, exist_ok=True)

    run_ostree(f"--repo={repo}", "fsck")
    log = run_ostree(f"--repo={repo}", "log", REF)
    assert first.checksum in log and second.checksum in log
    shown = run_ostree(f"--repo={repo}", "show", "--print-metadata-key=version", REF)
    assert shown.strip() == "'2'"
    assert REF in run_ostree(f"--repo={repo}", "summary", "--view")

    checkout = tmp_path / "checkout"
    run_ostree(f"--repo={repo}", "checkout", REF, checkout)
    assert_checkout_matches(checkout, second_tree, with_xattrs)


def tree_from_disk(path: Path) -> Directory:
    def xattrs_of(item: Path) -> tuple[tuple[bytes, bytes], ...]:
        return tuple((n.encode(), os.getxattr(item, n)) for n in os.listxattr(item))

    entries: dict[str, RegularFile | Symlink | Directory] = {}
    for child in path.iterdir():
        info = child.lstat()
        if stat.S_ISDIR(info.st_mode):
            entries[child.name] = tree_from_disk(child)
        elif stat.S_ISLNK(info.st_mode):
            entries[child.name] = Symlink(os.readlink(child), info.st_uid, info.st_gid)
        else:
            entries[child.name] = RegularFile(
                child.read_bytes(), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid,
                xattrs_of(child),
            )
    info = path.stat()
    return Directory(entries, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, xattrs_of(path))


def test_same_tree_checksums_as_ostree_commit(fixture_repo: FixtureRepo) -> None:
    ours = build_commit(tree_from_disk(fixture_repo.tree_a))
    theirs = read_commit(fixture_repo.path, fixture_repo.commit_a)
    assert (ours.commit.root_dirtree, ours.commit.root_dirmeta) == (
        theirs.root_dirtree,
        theirs.root_dirmeta,
    )
