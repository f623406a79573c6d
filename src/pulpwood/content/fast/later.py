"""An answer the HTTP server is promised before it can be given.

`FastPath.answer_now` gives one when the file is known only after a database round trip
that starts at once (PostgreSQL), or when its bytes are still on disk. It is not an asyncio
future on purpose: a future calls its callbacks in a later pass of the event loop, and a
chain of them (lookup, answer, write) made each request wait for several passes, each with
its own bookkeeping. Here the callback runs the moment the answer is set.
"""

from __future__ import annotations

from collections.abc import Callable

_NOT_YET = object()


class LaterAnswer:
    """`(head, body)` of a 200 answer, or None (the ASGI app must answer), once it is set."""

    __slots__ = ("_answer", "_callback")

    def __init__(self) -> None:
        self._answer = _NOT_YET
        self._callback: Callable[[tuple | None], None] | None = None

    def when_done(self, callback: Callable[[tuple | None], None]) -> None:
        """Call `callback(answer)` once it is set (at once if it is)."""
        if self._answer is _NOT_YET:
            self._callback = callback
        else:
            callback(self._answer)

    def set(self, answer: tuple | None) -> None:
        if self._answer is not _NOT_YET:
            return
        self._answer = answer
        callback, self._callback = self._callback, None
        if callback is not None:
            callback(answer)
