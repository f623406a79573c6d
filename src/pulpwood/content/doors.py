"""Which content app answers a request, decided before anything else of the server runs.

`ostree pull` sends tens of thousands of small requests; each layer of the API's stack
(FastAPI's error, body-limit and telemetry middleware, the Correlation-ID middleware, the
router) cost time on every one of them. The server therefore asks its ContentDoors first and
hands a request below a content prefix straight to that prefix's ContentApp.
"""

from __future__ import annotations


class ContentDoors:
    """The content prefixes of one server (the longest prefix wins)."""

    def __init__(self) -> None:
        self._doors: list[tuple[bytes, bytes, object]] = []

    def add(self, prefix: str, content) -> None:
        """Answer every request below `prefix` (and `prefix` without its slash) with `content`;
        it replaces what an earlier `add` of the same prefix put there."""
        encoded = prefix.encode()
        self._doors = [door for door in self._doors if door[0] != encoded]
        self._doors.append((encoded, encoded[:-1], content))
        self._doors.sort(key=lambda door: len(door[0]), reverse=True)

    def find(self, scope):
        """The content app for this HTTP request, or None."""
        return self.find_raw(scope.get("raw_path") or scope["path"].encode())

    def find_raw(self, raw: bytes):
        """The content app for the raw request path `raw`, or None."""
        for prefix, bare, content in self._doors:
            if raw.startswith(prefix) or raw == bare:
                return content
        return None
