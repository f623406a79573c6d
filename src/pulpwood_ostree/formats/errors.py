"""The one exception raised for malformed OSTree data.

``FormatError`` subclasses ``ValueError`` so callers that only know "bad input" can still catch
it; parsers translate every low-level failure (short buffers, bad offsets, invalid UTF-8) into
it, so an ``IndexError`` or ``struct.error`` never escapes this package.
"""


class FormatError(ValueError):
    """Data does not follow the GVariant / OSTree format it was parsed as."""
