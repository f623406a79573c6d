"""Unit tier: path splitting, MIME types, ranges, sizes and listing HTML."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid

import pytest

from pulpwood.content.fast.postgres import candidates_of
from pulpwood.content.html import human_size, render_listing
from pulpwood.content.http import UNSATISFIABLE, content_type_for, new_correlation_id, not_modified, parse_range
from pulpwood.content.lookup import ListingEntry
from pulpwood.content.paths import candidate_base_paths, split_path


@pytest.mark.parametrize(("raw", "segments", "slash"), [
    (b"", (), True), (b"a/b/", ("a", "b"), True), (b"a/b%20c.txt", ("a", "b c.txt"), False),
    (b"caf%C3%A9", ("caf\u00e9",), False), (b"caf\xc3\xa9/x", ("caf\u00e9", "x"), False),
])
def test_split_path_accepts(raw, segments, slash):
    path = split_path(raw)
    assert path.segments == segments and path.trailing_slash is slash


@pytest.mark.parametrize("raw", [b"a/../b", b"a/%2e%2E/b", b"a/%2F", b"a//b", b"/etc", b"a/./b", b"a%00", b"%ff",
                                 b"a%5c..%5cb", b".", b"\xff", b"a\\..\\b", b"a\x00", b"a/..", b"../a"])
def test_split_path_refuses(raw):
    assert split_path(raw) is None


def test_candidates_longest_first():
    assert candidate_base_paths(("a", "b", "c")) == ["a/b/c", "a/b", "a"]
    assert candidates_of("a/b/c") == ["a/b/c", "a/b", "a"] and candidates_of("a") == ["a"]


def test_new_correlation_ids_are_uuid4_hex():
    ids = {new_correlation_id() for _ in range(100)}
    assert len(ids) == 100
    for cid in ids:
        assert uuid.UUID(cid.decode()).version == 4 and uuid.UUID(cid.decode()).hex == cid.decode()


@pytest.mark.parametrize(("name", "mime"), [
    ("x.tar.gz", "application/gzip"), ("x.xml.gz", "application/gzip"), ("x.bz2", "application/x-bzip2"),
    ("x.zstd", "application/zstd"), ("x.xz", "application/x-xz"), ("x.json", "application/json"),
    ("x.txt", "text/plain"), ("x.xml", "text/xml"), ("X.JPG", "image/jpeg"), ("x.iso", "application/octet-stream"),
    ("objects/ab/cd.filez", "application/octet-stream"), ("config", "application/octet-stream"),
    (".hidden", "application/octet-stream"),
])
def test_mime_types(name, mime):
    assert content_type_for(name) == mime


@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("bytes=0-0", (0, 0)), ("bytes=3-", (3, 9)), ("bytes=-4", (6, 9)), ("bytes=-40", (0, 9)),
    ("bytes=8-100", (8, 9)), ("bytes=10-", UNSATISFIABLE), ("bytes=5-2", UNSATISFIABLE),
    ("bytes=-1-11", UNSATISFIABLE), ("bytes=0-1,3-4", UNSATISFIABLE), ("items=0-1", UNSATISFIABLE),
])
def test_parse_range(header, expected):
    assert parse_range(header, 10) == expected


@pytest.mark.parametrize(("size", "text"), [(0, "0 Bytes"), (307, "307 Bytes"), (1000, "1.0 kB"),
                                            (4_200_000, "4.2 MB"), (3_000_000_000, "3.0 GB")])
def test_human_size(size, text):
    assert human_size(size) == text


def test_not_modified_rules():
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    scope = lambda **h: {"headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in h.items()]}  # noqa: E731
    assert not_modified(scope(if_none_match='"abc"'), '"abc"', when)
    assert not_modified(scope(if_none_match='W/"abc", "x"'), '"abc"', when)
    assert not not_modified(scope(if_none_match='"x"', if_modified_since="Fri, 02 Jan 2026 03:04:05 GMT"),
                            '"abc"', when)
    assert not_modified(scope(if_modified_since="Fri, 02 Jan 2026 03:04:05 GMT"), '"abc"', when)
    assert not not_modified(scope(if_modified_since="Fri, 02 Jan 2026 03:04:04 GMT"), '"abc"', when)
    assert not not_modified(scope(if_modified_since="garbage"), '"abc"', when)


def test_listing_shape():
    when = dt.datetime(2026, 11, 25, 14, 5, tzinfo=dt.UTC)
    html = render_listing("/pulp/content/x/", [ListingEntry("0.iso", 4_200_000, when), ListingEntry("d/", None, when)],
                          parent_link=True).decode()
    lines = html.splitlines()
    assert lines[0] == ('<html><head><title>Index of /pulp/content/x/</title></head><body bgcolor="white">'
                        '<h1>Index of /pulp/content/x/</h1><hr><pre><a href="../">../</a>')
    assert lines[1].startswith('<a href="./0.iso">0.iso</a> ') and lines[1].endswith("25-Nov-2026 14:05  4.2 MB")
    assert lines[1].index("25-Nov") == 100
    assert lines[2].startswith('<a href="./d/">d/</a> ') and lines[2].endswith("25-Nov-2026 14:05")
    assert lines[3] == "</pre><hr></body></html>"
    assert "&lt;" in render_listing("/p/", [ListingEntry("<b>", 1, None)], parent_link=False).decode()


def test_a_file_not_in_the_page_cache_is_read_once_the_kernel_has_read_it_ahead(tmp_path, monkeypatch):
    from pulpwood.content.fast import response

    path = tmp_path / "object"
    data = os.urandom(3000)
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # written pages stay cached until they are on disk
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    threads = []
    monkeypatch.setattr(response, "read_file", lambda *args: threads.append(args) or data)
    if response.read_cached(str(path), len(data)) is response.NOT_CACHED:  # Linux: readahead started
        assert asyncio.run(response.read_when_cached(str(path), len(data))) == data
        assert not threads  # found in the page cache, no thread needed
    # A look that keeps failing: a thread reads the file in the end.
    monkeypatch.setattr(response, "read_cached", lambda *args: response.NOT_CACHED)
    assert asyncio.run(response.read_when_cached(str(path), len(data))) == data and len(threads) == 1


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_commit_watch_changes_with_every_commit_of_another_connection(tmp_path, journal_mode):
    import sqlite3

    from pulpwood.content.fast.sqlite import CommitWatch

    database = str(tmp_path / "db.sqlite3")
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute(f"PRAGMA journal_mode={journal_mode}")
    writer.execute("CREATE TABLE t (x)")
    reader = sqlite3.connect(database, isolation_level=None)
    watch = CommitWatch(database, reader)
    assert (watch._map is not None) is (journal_mode == "wal")  # the mapped header only in WAL mode
    seen = [watch.stamp()]
    for value in range(3):
        assert watch.stamp() == seen[-1]  # nothing committed: the same stamp
        writer.execute("INSERT INTO t VALUES (?)", (value,))
        seen.append(watch.stamp())
        assert seen[-1] != seen[-2]
    with writer:  # a transaction of several statements is one commit
        writer.execute("BEGIN")
        writer.execute("INSERT INTO t VALUES (10)")
        assert watch.stamp() == seen[-1]  # not committed yet
        writer.execute("INSERT INTO t VALUES (11)")
    assert watch.stamp() != seen[-1]


def test_target_files_leave_paths_held_twice_and_too_big_targets_to_the_statement():
    from pulpwood.content.fast.target_files import TargetFiles

    files = TargetFiles(load_after=3, limit=4)
    assert [files.should_load("t") for _ in range(4)] == [False, False, True, False]  # loaded once
    built = files.build([("a", "fa", 1, "sa", "d1"), ("b", "fb", 2, "sb", "d1"), ("a", "fa2", 3, "sa2", "d2")])
    assert sorted(built) == ["b"] and built["b"].file == "fb" and built["b"].size == 2
    files.store("t", built)
    assert files.files("t")["b"].sha256 == "sb" and files.files("other") is None
    assert files.build([(str(n), "f", 1, "s", "d") for n in range(5)]) is None  # limit + 1 rows: too big
    files.store("big", None)
    assert files.files("big") is None and not any(files.should_load("big") for _ in range(5))


def test_target_files_hold_at_most_limit_files_dropping_the_oldest_target():
    from pulpwood.content.fast.target_files import TargetFiles

    files = TargetFiles(load_after=1, limit=5)
    for name, count in (("one", 3), ("two", 2), ("three", 2)):
        files.store(name, files.build([(f"{name}/{n}", "f", 1, "s", "d") for n in range(count)]))
    assert files.files("one") is None  # dropped to make room for "three"
    assert len(files.files("two")) == 2 and len(files.files("three")) == 2
    assert files.should_load("one")  # may be loaded again


@pytest.mark.parametrize("sha256, modified", [("ab" * 32, b"Mon, 07 Dec 2026 02:00:00 GMT"), (None, None)])
def test_answer_head_lines_are_the_fast_path_headers(sha256, modified):
    from pulpwood.content.fast.response import file_head, file_headers

    arguments = ("objects/ab/cd.filez", 1234, sha256, modified, new_correlation_id())
    assert file_head(*arguments) == b"".join(b"%s: %s\r\n" % header for header in file_headers(*arguments))
