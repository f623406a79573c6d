"""Malformed input raises FormatError (a ValueError) and nothing else."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulpwood_ostree.formats import (
    Commit,
    DeltaPart,
    DirMeta,
    DirTree,
    FilezVerifier,
    FormatError,
    Summary,
    Superblock,
    b64_to_checksum,
    checksum_to_bytes,
    gvariant,
    parse_archive_header,
    parse_delta_index,
    parse_object_path,
    validate_ref,
)
from pulpwood_ostree.formats.deltas import PART_PAYLOAD_TYPE, SUPERBLOCK_TYPE
from pulpwood_ostree.formats.summary import SUMMARY_TYPE

from .support import FixtureRepo

TYPES = [
    "(a{sv}aya(say)sstayay)", "(a(say)a(sayay))", "(uuua(ayay))", "(uuuusa(ayay))",
    "(tuuuusa(ayay))", SUMMARY_TYPE, SUPERBLOCK_TYPE, PART_PAYLOAD_TYPE, "a{sv}", "v", "as",
    "a(ayay)", "maay", "a{sa(s(taya{sv}))}", "(a(uuu)aa(ayay)ayay)", "ms", "(ty)", "b",
]


def filez_checksum_of(data: bytes) -> str:
    verifier = FilezVerifier()
    verifier.update(data)
    return verifier.finish()


PARSERS: list[Callable[[bytes], Any]] = [
    Commit.from_bytes, DirTree.from_bytes, DirMeta.from_bytes, Summary.from_bytes,
    Superblock.from_bytes, DeltaPart.from_bytes, parse_archive_header, filez_checksum_of,
    parse_delta_index,
]


def only_format_errors(parser: Callable[[bytes], Any], data: bytes) -> bool:
    """Run ``parser``; True if it raised FormatError, False if it parsed. Other errors fail."""
    try:
        parser(data)
    except FormatError:
        return True
    return False


def test_format_error_is_a_value_error() -> None:
    assert issubclass(FormatError, ValueError)


@pytest.mark.parametrize("type_str", TYPES)
def test_random_garbage_for_every_type(type_str: str) -> None:
    rng = random.Random(type_str)
    for length in list(range(0, 80)) + [rng.randrange(80, 2000) for _ in range(40)]:
        only_format_errors(lambda data: gvariant.parse(type_str, data), rng.randbytes(length))


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: getattr(p, "__qualname__", str(p)))
def test_random_garbage_for_every_parser(parser: Callable[[bytes], Any]) -> None:
    rng = random.Random(7)
    # An empty a{sv} is a valid, empty delta index; every other format needs bytes.
    assert only_format_errors(parser, b"") is (parser is not parse_delta_index)
    for length in range(1, 400, 3):
        only_format_errors(parser, rng.randbytes(length))


def real_objects(repo: Path, extension: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted(repo.glob(f"objects/*/*.{extension}"))]


PARSER_BY_EXTENSION = {"commit": Commit.from_bytes, "dirtree": DirTree.from_bytes,
                       "dirmeta": DirMeta.from_bytes, "filez": filez_checksum_of}


@pytest.mark.parametrize("extension", list(PARSER_BY_EXTENSION))
def test_truncated_and_corrupted_objects(fixture_repo: FixtureRepo, extension: str) -> None:
    parser = PARSER_BY_EXTENSION[extension]
    rng = random.Random(extension)
    for data in real_objects(fixture_repo.path, extension):
        if len(data) > 50_000:
            data = data[:50_000]  # the big file: a truncated .filez is what we want anyway
        for length in range(len(data)) if len(data) < 600 else rng.sample(range(len(data)), 300):
            truncated = data[:length]
            rejected = only_format_errors(parser, truncated)
            # A truncated content object is always detected, except an empty file cut right
            # after its header: no deflate stream at all is a valid encoding of no content.
            if extension == "filez" and not rejected:
                assert parser(truncated) == parser(data), f".filez cut at {length} accepted"
        for _ in range(50):
            corrupted = bytearray(data)
            corrupted[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            only_format_errors(parser, bytes(corrupted))


def test_deep_nesting_is_a_format_error() -> None:
    with pytest.raises(FormatError):
        gvariant.parse("a" * 5000 + "y", b"")
    with pytest.raises(FormatError):
        gvariant.parse("v", b"\x01\0y" + b"\0v" * 3000)
    assert gvariant.parse("v", b"\x01\0y\0v").value.value == 1


@pytest.mark.parametrize(
    ("function", "argument"),
    [
        (checksum_to_bytes, "ABCDEF"),
        (checksum_to_bytes, "g" * 64),
        (b64_to_checksum, "!!"),
        (b64_to_checksum, "AAAA"),
        (parse_object_path, "objects/zz/nothex.commit"),
        (parse_object_path, "objects/ab/" + "0" * 62 + ".unknown"),
        (validate_ref, "-starts-with-dash"),
        (validate_ref, "a//b"),
        (validate_ref, "trailing/"),
        (validate_ref, "spa ce"),
    ],
)
def test_helpers_reject_bad_names(function: Callable[[str], Any], argument: str) -> None:
    with pytest.raises(FormatError):
        function(argument)


def test_filez_verifier_rejects_trailing_data_and_bad_sizes(fixture_repo: FixtureRepo) -> None:
    small = min(real_objects(fixture_repo.path, "filez"), key=len)
    largest_regular = max(real_objects(fixture_repo.path, "filez"), key=len)
    with pytest.raises(FormatError):
        filez_checksum_of(largest_regular + b"trailing")
    header_length = int.from_bytes(largest_regular[:4], "big")
    lying = bytearray(largest_regular)
    lying[8:16] = (1).to_bytes(8, "big")  # claims one byte of content
    with pytest.raises(FormatError):
        filez_checksum_of(bytes(lying))
    assert header_length > 0 and filez_checksum_of(small)
