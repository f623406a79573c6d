"""GVariant binary serialisation, driven by type strings.

``serialize(type_str, value)`` and ``parse(type_str, data)`` implement the normal form of the
GVariant specification for every definite type (basic types, ``v``, ``a``, ``m``, tuples and
dict entries); OSTree checksums metadata objects over these exact bytes, so the writer always
emits normal form: zero padding, minimal framing-offset width, little-endian values.

Python mapping: ``y n q i u x t h`` -> int, ``b`` -> bool, ``d`` -> float, ``s o g`` -> str,
``ay`` -> bytes, ``a{kv}`` -> dict (insertion order is serialisation order), other arrays ->
list, tuples and dict entries -> tuple, ``m`` -> None or the value, ``v`` -> :class:`Variant`.

Values are little-endian as serialised. OSTree stores some integers big-endian inside these
little-endian fields; callers convert those with :func:`bswap32` / :func:`bswap64`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import FormatError

__all__ = ["Variant", "bswap16", "bswap32", "bswap64", "parse", "serialize"]

# code -> (struct format, size); alignment equals size for all of them.
_NUMBERS: dict[str, tuple[str, int]] = {
    "y": ("<B", 1),
    "b": ("<B", 1),
    "n": ("<h", 2),
    "q": ("<H", 2),
    "i": ("<i", 4),
    "u": ("<I", 4),
    "h": ("<i", 4),
    "x": ("<q", 8),
    "t": ("<Q", 8),
    "d": ("<d", 8),
}
_STRINGS = "sog"
_BASIC = set(_NUMBERS) | set(_STRINGS)
_OFFSET_LIMITS = ((1, 0xFF), (2, 0xFFFF), (4, 0xFFFFFFFF), (8, 0xFFFFFFFFFFFFFFFF))


@dataclass(frozen=True)
class Variant:
    """A value boxed with its GVariant type string, as stored in ``v`` slots."""

    type_str: str
    value: Any


def bswap16(value: int) -> int:
    """Reverse the byte order of an unsigned 16-bit integer."""
    return int.from_bytes(value.to_bytes(2, "little"), "big")


def bswap32(value: int) -> int:
    """Reverse the byte order of an unsigned 32-bit integer."""
    return int.from_bytes(value.to_bytes(4, "little"), "big")


def bswap64(value: int) -> int:
    """Reverse the byte order of an unsigned 64-bit integer."""
    return int.from_bytes(value.to_bytes(8, "little"), "big")


class _Type:
    """A parsed type string with the layout facts the codec needs."""

    __slots__ = ("alignment", "children", "code", "fixed_size", "kind")

    def __init__(self, code: str, children: tuple[_Type, ...]) -> None:
        self.code = code
        self.kind = code[0]
        self.children = children
        self.alignment, self.fixed_size = self._layout()

    def _layout(self) -> tuple[int, int | None]:
        if self.kind in _NUMBERS:
            size = _NUMBERS[self.kind][1]
            return size, size
        if self.kind in _STRINGS:
            return 1, None
        if self.kind == "v":
            return 8, None
        if self.kind in "am":
            return self.children[0].alignment, None
        # Tuples and dict entries: fixed only if every member is fixed.
        alignment = max((child.alignment for child in self.children), default=1)
        size = 0
        for child in self.children:
            if child.fixed_size is None:
                return alignment, None
            size = _align(size, child.alignment) + child.fixed_size
        # The unit tuple occupies one zero byte so that arrays of it have a length.
        return alignment, max(_align(size, alignment), 1)


@lru_cache(maxsize=512)
def _type(type_str: str) -> _Type:
    try:
        parsed, end = _read_type(type_str, 0)
    except RecursionError:
        raise FormatError(f"type string nested too deeply: {type_str[:40]!r}…") from None
    if end != len(type_str):
        raise FormatError(f"not a single complete type: {type_str!r}")
    return parsed


def _read_type(text: str, pos: int) -> tuple[_Type, int]:
    if pos >= len(text):
        raise FormatError(f"truncated type string: {text!r}")
    char = text[pos]
    if char in _BASIC or char == "v":
        return _Type(char, ()), pos + 1
    if char in "am":
        child, end = _read_type(text, pos + 1)
        return _Type(text[pos:end], (child,)), end
    if char in "({":
        closing = ")" if char == "(" else "}"
        children = []
        cursor = pos + 1
        while cursor < len(text) and text[cursor] != closing:
            child, cursor = _read_type(text, cursor)
            children.append(child)
        if cursor >= len(text):
            raise FormatError(f"unterminated {char!r} in type string {text!r}")
        if char == "{" and (len(children) != 2 or children[0].kind not in _BASIC):
            raise FormatError(f"dict entry needs a basic key and one value: {text!r}")
        return _Type(text[pos : cursor + 1], tuple(children)), cursor + 1
    raise FormatError(f"unsupported type code {char!r} in {text!r}")


def _align(offset: int, alignment: int) -> int:
    return -(-offset // alignment) * alignment


def _offset_width(container_size: int) -> int:
    """Framing offset width a reader derives from the container's total size."""
    if container_size == 0:
        return 0
    return next(width for width, limit in _OFFSET_LIMITS if container_size <= limit)


# ---------------------------------------------------------------- serialisation


def serialize(type_str: str, value: Any) -> bytes:
    """Serialise ``value`` as GVariant type ``type_str`` in normal form."""
    return _serialize(_type(type_str), value)


def _serialize(t: _Type, value: Any) -> bytes:
    kind = t.kind
    if kind in _NUMBERS:
        return _pack_number(t.code, value)
    if kind in _STRINGS:
        if not isinstance(value, str) or "\0" in value:
            raise FormatError(f"expected a str without NUL for {kind!r}, got {value!r}")
        return value.encode("utf-8") + b"\0"
    if kind == "v":
        if not isinstance(value, Variant):
            raise FormatError(f"expected a Variant for 'v', got {type(value).__name__}")
        child = _serialize(_type(value.type_str), value.value)
        return child + b"\0" + value.type_str.encode("ascii")
    if kind == "m":
        if value is None:
            return b""
        inner = _serialize(t.children[0], value)
        return inner if t.children[0].fixed_size is not None else inner + b"\0"
    if kind == "a":
        return _serialize_array(t.children[0], value)
    return _serialize_tuple(t, value)


def _pack_number(code: str, value: Any) -> bytes:
    if code == "b":
        if not isinstance(value, bool):
            raise FormatError(f"expected a bool for 'b', got {value!r}")
        return b"\1" if value else b"\0"
    try:
        return struct.pack(_NUMBERS[code][0], value)
    except struct.error as exc:
        raise FormatError(f"cannot encode {value!r} as {code!r}: {exc}") from None


def _serialize_array(element: _Type, value: Any) -> bytes:
    if element.kind == "y":
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise FormatError(f"expected bytes for 'ay', got {type(value).__name__}")
        return bytes(value)
    items: Iterable[Any] = value.items() if isinstance(value, Mapping) else value
    if element.fixed_size is not None:
        return b"".join(_serialize(element, item) for item in items)
    body = bytearray()
    ends = []
    for item in items:
        body.extend(bytes(_align(len(body), element.alignment) - len(body)))
        body.extend(_serialize(element, item))
        ends.append(len(body))
    return _append_offsets(body, ends)


def _serialize_tuple(t: _Type, value: Any) -> bytes:
    if not isinstance(value, (tuple, list)) or len(value) != len(t.children):
        raise FormatError(f"expected a {len(t.children)}-tuple for {t.code!r}, got {value!r}")
    body = bytearray()
    ends = []
    last = len(t.children) - 1
    for index, (child, item) in enumerate(zip(t.children, value, strict=True)):
        body.extend(bytes(_align(len(body), child.alignment) - len(body)))
        body.extend(_serialize(child, item))
        if child.fixed_size is None and index != last:
            ends.append(len(body))
    if t.fixed_size is not None:
        body.extend(bytes(t.fixed_size - len(body)))
        return bytes(body)
    ends.reverse()
    return _append_offsets(body, ends)


def _append_offsets(body: bytearray, ends: list[int]) -> bytes:
    if not ends:
        return bytes(body)
    width = next(
        width for width, limit in _OFFSET_LIMITS if len(body) + len(ends) * width <= limit
    )
    for end in ends:
        body.extend(end.to_bytes(width, "little"))
    return bytes(body)


# ---------------------------------------------------------------------- parsing


def parse(type_str: str, data: bytes | bytearray | memoryview) -> Any:
    """Parse ``data`` as GVariant type ``type_str``; raise FormatError if malformed."""
    t = _type(type_str)
    try:
        return _parse(t, memoryview(data).cast("B"))
    except RecursionError:
        raise FormatError(f"{type_str!r} data nested too deeply") from None


def _parse(t: _Type, data: memoryview) -> Any:
    kind = t.kind
    if kind in _NUMBERS:
        return _unpack_number(t.code, data)
    if kind in _STRINGS:
        return _parse_string(data)
    if kind == "v":
        return _parse_variant(data)
    if kind == "m":
        return _parse_maybe(t.children[0], data)
    if kind == "a":
        return _parse_array(t.children[0], data)
    return _parse_tuple(t, data)


def _unpack_number(code: str, data: memoryview) -> Any:
    fmt, size = _NUMBERS[code]
    if len(data) != size:
        raise FormatError(f"{code!r} needs {size} bytes, got {len(data)}")
    (number,) = struct.unpack(fmt, data)
    if code == "b":
        if number > 1:
            raise FormatError(f"boolean byte must be 0 or 1, got {number}")
        return bool(number)
    return number


def _parse_string(data: memoryview) -> str:
    raw = bytes(data)
    if not raw.endswith(b"\0") or b"\0" in raw[:-1]:
        raise FormatError("string is not exactly NUL-terminated")
    try:
        return raw[:-1].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"string is not valid UTF-8: {exc}") from None


def _parse_variant(data: memoryview) -> Variant:
    # The type string is short and sits at the end; avoid copying a large child value.
    raw = bytes(data[-4096:])
    separator = raw.rfind(b"\0")
    if separator < 0 and len(data) > len(raw):
        raw = bytes(data)
        separator = raw.rfind(b"\0")
    if separator < 0:
        raise FormatError("variant has no type-string separator")
    try:
        type_str = raw[separator + 1 :].decode("ascii")
    except UnicodeDecodeError:
        raise FormatError("variant type string is not ASCII") from None
    child_end = len(data) - (len(raw) - separator)
    return Variant(type_str, _parse(_type(type_str), data[:child_end]))


def _parse_maybe(element: _Type, data: memoryview) -> Any:
    if len(data) == 0:
        return None
    if element.fixed_size is not None:
        return _parse(element, data)
    if data[-1] != 0:
        raise FormatError("maybe value lacks its trailing zero byte")
    return _parse(element, data[:-1])


def _parse_array(element: _Type, data: memoryview) -> Any:
    if element.kind == "y":
        return bytes(data)
    if element.fixed_size is not None:
        size = element.fixed_size
        if len(data) % size:
            raise FormatError(f"array length {len(data)} is not a multiple of {size}")
        items = [_parse(element, data[pos : pos + size]) for pos in range(0, len(data), size)]
    else:
        items = _parse_variable_array(element, data)
    return dict(items) if element.kind == "{" else items


def _parse_variable_array(element: _Type, data: memoryview) -> list[Any]:
    if len(data) == 0:
        return []
    width = _offset_width(len(data))
    table_start = _read_offset(data, len(data) - width, width)
    table_size = len(data) - table_start
    if table_start > len(data) or table_size % width or table_size == 0:
        raise FormatError("array framing offsets are inconsistent")
    items = []
    start = 0
    for entry in range(table_start, len(data), width):
        end = _read_offset(data, entry, width)
        start = _align(start, element.alignment)
        if not start <= end <= table_start:
            raise FormatError("array element offset out of range")
        items.append(_parse(element, data[start:end]))
        start = end
    return items


def _parse_tuple(t: _Type, data: memoryview) -> tuple[Any, ...]:
    if t.fixed_size is not None and len(data) != t.fixed_size:
        raise FormatError(f"{t.code!r} needs {t.fixed_size} bytes, got {len(data)}")
    width = _offset_width(len(data))
    table_start = len(data)
    values = []
    pos = 0
    last = len(t.children) - 1
    for index, child in enumerate(t.children):
        pos = _align(pos, child.alignment)
        if child.fixed_size is not None:
            end = pos + child.fixed_size
        elif index == last:
            end = table_start
        else:
            table_start -= width
            if width == 0 or table_start < 0:
                raise FormatError(f"{t.code!r} framing offsets are truncated")
            end = _read_offset(data, table_start, width)
        if not pos <= end <= table_start:
            raise FormatError(f"{t.code!r} member offset out of range")
        values.append(_parse(child, data[pos:end]))
        pos = end
    return tuple(values)


def _read_offset(data: memoryview, pos: int, width: int) -> int:
    if pos < 0 or pos + width > len(data):
        raise FormatError("framing offset out of range")
    return int.from_bytes(data[pos : pos + width], "little")
