"""TaskContext: what a running task may use — sessions, storage, progress, its own record."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

from pulpwood.runtime import Runtime
from pulpwood.tasking.progress import ProgressBook, ProgressReport


class TaskContext:
    def __init__(self, runtime: Runtime, task_id: uuid.UUID, logging_cid: str, created_by_id: int | None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.storage = runtime.storage
        self.task_id = task_id
        self.logging_cid = logging_cid
        self.created_by_id = created_by_id
        self.progress_book = ProgressBook()
        self.created_resources: list[str] = []
        self.result: dict | None = None

    def progress(self, message: str, code: str, total: int | None = None) -> ProgressReport:
        return self.progress_book.add(message, code, total)

    @asynccontextmanager
    async def transaction(self):
        """A write session whose work commits when the block ends without error."""
        async with self.runtime.write_session() as session:
            async with session.begin():
                yield session

    @asynccontextmanager
    async def reading(self):
        async with self.runtime.read_session() as session:
            yield session

    def created(self, href: str) -> None:
        self.created_resources.append(href)

    def session_factory(self):
        return self.runtime.write_session
