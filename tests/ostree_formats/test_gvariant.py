"""The GVariant codec: spec examples, round trips, offset widths, and GLib as an oracle."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from pulpwood_ostree.formats import FormatError, Variant, bswap16, bswap32, bswap64, gvariant
from pulpwood_ostree.formats.deltas import PART_PAYLOAD_TYPE, SUPERBLOCK_TYPE
from pulpwood_ostree.formats.summary import SUMMARY_TYPE

# Examples from the GVariant serialisation specification.
SPEC_EXAMPLES = [
    ("s", "hello world", b"hello world\0"),
    ("ms", "hello world", b"hello world\0\0"),
    ("as", ["i", "can", "has", "strings?"], b"i\0can\0has\0strings?\0\x02\x06\x0a\x13"),
    ("(si)", ("foo", -1), b"foo\0\xff\xff\xff\xff\x04"),
    ("a(si)", [("foo", -1), ("bar", 2)],
     b"foo\0\xff\xff\xff\xff\x04\0\0\0bar\0\x02\0\0\0\x04\x09\x15"),
    ("(ss)", ("foo", "bar"), b"foo\0bar\0\x04"),
    ("{si}", ("foo", -1), b"foo\0\xff\xff\xff\xff\x04"),
    ("ay", b"\x01\x02", b"\x01\x02"),
    ("a{sv}", {}, b""),
    ("()", (), b"\0"),
    ("(yy)", (1, 2), b"\x01\x02"),
    ("(ty)", (1, 2), b"\x01" + bytes(7) + b"\x02" + bytes(7)),
    ("mu", None, b""),
    ("mu", 7, b"\x07\0\0\0"),
    ("v", Variant("y", 5), b"\x05\0y"),
    ("ab", [True, False], b"\x01\x00"),
]


@pytest.mark.parametrize(("type_str", "value", "data"), SPEC_EXAMPLES)
def test_spec_examples(type_str: str, value: Any, data: bytes) -> None:
    assert gvariant.serialize(type_str, value) == data
    assert gvariant.parse(type_str, data) == value


ROUND_TRIPS = [
    ("a{sv}", {"a": Variant("as", ["x", "yy"]), "b": Variant("t", 2**64 - 1)}),
    ("(a(say)a(sayay))", ([("f", bytes(32))], [("d", bytes(32), b"\x01" * 32)])),
    ("(uuua(ayay))", (1, 2, 3, [(b"user.a\0", b"v"), (b"user.b\0", b"")])),
    ("maay", [b"", b"x"]),
    ("mmy", 3),
    ("(nqixtdb)", (-2, 3, -4, -5, 6, 1.5, True)),
    ("v", Variant("v", Variant("(sv)", ("k", Variant("mi", None))))),
    ("a(uuu)", [(1, 2, 3), (4, 5, 6)]),
    ("(a(uuu)aa(ayay)ayay)", ([(0, 0, 0o100644)], [[(b"n\0", b"v")], []], b"blob", b"S\0\0")),
    ("a{sa(s(taya{sv}))}", {"c": [("r", (1, bytes(32), {}))]}),
    ("(og)", ("/obj", "a{sv}")),
]


@pytest.mark.parametrize(("type_str", "value"), ROUND_TRIPS)
def test_round_trip(type_str: str, value: Any) -> None:
    data = gvariant.serialize(type_str, value)
    assert gvariant.parse(type_str, data) == value
    assert gvariant.serialize(type_str, gvariant.parse(type_str, data)) == data


@pytest.mark.parametrize(
    ("count", "width"), [(10, 1), (100, 2), (20_000, 4)], ids=["1-byte", "2-byte", "4-byte"]
)
def test_framing_offset_width_grows_with_container(count: int, width: int) -> None:
    value = [f"s{index}" for index in range(count)]
    data = gvariant.serialize("as", value)
    body = sum(len(item) + 1 for item in value)
    assert len(data) == body + count * width
    assert gvariant.parse("as", data) == value


def test_offset_width_boundary_is_on_total_size() -> None:
    # 254 body bytes + one 1-byte offset = 255: still width 1. One more byte forces width 2.
    assert len(gvariant.serialize("(sy)", ("x" * 252, 1))) == 255
    assert len(gvariant.serialize("(ss)", ("x" * 252, ""))) == 255
    assert len(gvariant.serialize("(ss)", ("x" * 253, ""))) == 257


def test_byte_swaps() -> None:
    assert bswap16(0x0102) == 0x0201
    assert bswap32(0x01020304) == 0x04030201
    assert bswap64(0x0102030405060708) == 0x0807060504030201


@pytest.mark.parametrize(
    ("type_str", "value"),
    [("s", b"bytes"), ("s", "nul\0inside"), ("u", -1), ("y", 256), ("b", 1), ("(uu)", (1,)),
     ("v", 5), ("ay", "text")],
)
def test_serialize_rejects_wrong_values(type_str: str, value: Any) -> None:
    with pytest.raises(FormatError):
        gvariant.serialize(type_str, value)


@pytest.mark.parametrize("type_str", ["", "z", "a", "(u", "{ayu}", "{u}", "uu", "a{sv"])
def test_invalid_type_strings(type_str: str) -> None:
    with pytest.raises(FormatError):
        gvariant.parse(type_str, b"")


GLIB_ORACLE = r"""
import json, sys
import gi
gi.require_version("GLib", "2.0")
from gi.repository import GLib

def members(container):
    out, depth, start = [], 0, 1
    for index, char in enumerate(container[1:-1], start=1):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if depth == 0 and char not in "am":
            out.append(container[start : index + 1])
            start = index + 1
    return out

def convert(type_str, value):
    if type_str == "v":
        inner_type, inner = value
        return GLib.Variant(inner_type, convert(inner_type, inner))
    if type_str == "ay":
        return bytes.fromhex(value)
    if type_str.startswith("a{"):
        key_type, value_type = members(type_str[1:])
        return {k: convert(value_type, v) for k, v in value}
    if type_str[0] == "a":
        return [convert(type_str[1:], v) for v in value]
    if type_str[0] in "({":
        return tuple(convert(m, v) for m, v in zip(members(type_str), value))
    if type_str[0] == "m":
        return None if value is None else convert(type_str[1:], value)
    return value

out = []
for type_str, value in json.load(sys.stdin):
    variant = GLib.Variant(type_str, convert(type_str, value))
    out.append(variant.get_data_as_bytes().get_data().hex())
print(json.dumps(out))
"""


def _to_json(type_str: str, value: Any) -> Any:
    """Our Python value -> the JSON shape the oracle script converts back for GLib."""
    if type_str == "v":
        return [value.type_str, _to_json(value.type_str, value.value)]
    if type_str == "ay":
        return value.hex()
    if type_str.startswith("a{"):
        value_type = type_str[3:-1]
        return [[key, _to_json(value_type, item)] for key, item in value.items()]
    if type_str.startswith("a"):
        return [_to_json(type_str[1:], item) for item in value]
    if type_str.startswith("("):
        members = _members(type_str)
        return [_to_json(member, item) for member, item in zip(members, value, strict=True)]
    return value


def _members(tuple_type: str) -> list[str]:
    members, depth, start = [], 0, 1
    for index, char in enumerate(tuple_type[1:-1], start=1):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if depth == 0 and char not in "am":
            members.append(tuple_type[start : index + 1])
            start = index + 1
    return members


ORACLE_CASES = [
    ("(a{sv}aya(say)sstayay)",
     ({"version": Variant("s", "1"), "ostree.ref-binding": Variant("as", ["a/b", "c"])},
      bytes(range(32)), [("rel", bytes(32))], "subject", "body " * 80, 123456789,
      b"\x11" * 32, b"\x22" * 32)),
    ("(a(say)a(sayay))",
     ([(f"file{i}", bytes([i]) * 32) for i in range(40)],
      [(f"dir{i}", bytes([i]) * 32, bytes([i + 1]) * 32) for i in range(3)])),
    ("(uuua(ayay))", (1, 2, 0o40755, [(b"user.x\x00", b"v" * 300)])),
    ("(tuuuusa(ayay))", (5, 0, 0, 0o100644, 0, "", [])),
    (SUMMARY_TYPE,
     ([("ref", (812, bytes(32), {"ostree.commit.timestamp": Variant("t", 77)}))],
      {"ostree.summary.mode": Variant("s", "archive-z2"),
       "ostree.static-deltas": Variant("a{sv}", {"a-b": Variant("ay", bytes(32))})})),
    (PART_PAYLOAD_TYPE, ([(0, 0, 33188)], [[], [(b"n\x00", b"v")]], b"x" * 300, b"S\x01\x02")),
    (SUPERBLOCK_TYPE,
     ({"ostree.endianness": Variant("y", 108)}, 99, b"", bytes(32),
      ({}, b"", [], "s", "", 1, bytes(32), bytes(32)), b"",
      [(0, bytes(32), 10, 20, bytes(33))], [(1, bytes(32), 30, 40)])),
    ("as", [f"entry-{i}" for i in range(9000)]),
]


def test_matches_glib_serialisation() -> None:
    cases = [[type_str, _to_json(type_str, value)] for type_str, value in ORACLE_CASES]
    try:
        result = subprocess.run(
            ["/usr/bin/python3", "-c", GLIB_ORACLE], input=json.dumps(cases),
            capture_output=True, text=True, check=False,
        )
    except FileNotFoundError:
        pytest.skip("no system python3 to run PyGObject")
    if result.returncode != 0:
        pytest.skip(f"PyGObject (GLib.Variant) unavailable: {result.stderr.strip()[-200:]}")
    expected = json.loads(result.stdout)
    for (type_str, value), glib_hex in zip(ORACLE_CASES, expected, strict=True):
        assert gvariant.serialize(type_str, value).hex() == glib_hex, type_str
        assert gvariant.parse(type_str, bytes.fromhex(glib_hex)) == value
