"""Breadth-first, concurrent walk of the trees of new commits.

Level by level across ALL commits at once: the dirtrees of one level are looked up in the
database in batches, the unknown ones downloaded concurrently (known ones are read back
from storage), parsed, and their children form the next level. Dirmeta and file objects
go to a pool of download workers as soon as they are discovered, so file downloads run
while the tree is still being expanded. Every object is handled once per sync, however many
commits share it.
"""

from __future__ import annotations

import asyncio

from pulpwood.plugin import ProgressReport, TaskError
from pulpwood_ostree.formats import DirTree, ObjectType, object_path
from pulpwood_ostree.sync.fetch import Fetcher
from pulpwood_ostree.sync.store import Key, Known, NewObject, ObjectSaver, lookup_objects

FILE, DIR_TREE, DIR_META = int(ObjectType.FILE), int(ObjectType.DIR_TREE), int(ObjectType.DIR_META)


class TreeWalker:
    def __init__(self, ctx, fetcher: Fetcher, saver: ObjectSaver, *, download_files: bool, concurrency: int,
                 metadata_progress: ProgressReport, object_progress: ProgressReport) -> None:
        self.ctx = ctx
        self.fetcher = fetcher
        self.saver = saver
        self.download_files = download_files
        self.concurrency = concurrency
        self.metadata_progress = metadata_progress
        self.object_progress = object_progress
        self.trees: dict[str, DirTree] = {}
        self._seen: set[Key] = set()
        self._queue: asyncio.Queue[NewObject] = asyncio.Queue()
        self._workers: list[asyncio.Task] = []

    # ---------------------------------------------------------------- public

    async def walk(self, roots: list[tuple[str, str]]) -> None:
        """Make every object under the given (root dirtree, root dirmeta) pairs stored."""
        self._workers = [asyncio.ensure_future(self._worker()) for _ in range(self.concurrency)]
        try:
            trees: list[str] = []
            leaves: list[Key] = []
            for tree, meta in roots:
                self._discover((tree, DIR_TREE), trees, leaves)
                self._discover((meta, DIR_META), trees, leaves)
            while trees or leaves:
                self._check_workers()
                known = await self._lookup([(t, DIR_TREE) for t in trees] + leaves)
                for key in leaves:
                    self._leaf(key, known.get(key))
                parsed = await asyncio.gather(*(self._tree(t, known.get((t, DIR_TREE))) for t in trees))
                trees, leaves = [], []
                for tree in parsed:
                    for entry in tree.dirs:
                        self._discover((entry.tree_checksum, DIR_TREE), trees, leaves)
                        self._discover((entry.meta_checksum, DIR_META), trees, leaves)
                    for entry in tree.files:
                        self._discover((entry.checksum, FILE), trees, leaves)
            await self._drain()
            await self.saver.flush()
        finally:
            for worker in self._workers:
                worker.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            await self.saver.stop()

    def reachable(self, root_tree: str, root_meta: str) -> set[Key]:
        """Every (checksum, type) under a root, from the trees seen by this walk."""
        keys: set[Key] = {(root_meta, DIR_META)}
        pending = [root_tree]
        while pending:
            checksum = pending.pop()
            if (checksum, DIR_TREE) in keys:
                continue
            keys.add((checksum, DIR_TREE))
            tree = self.trees[checksum]
            keys.update((entry.checksum, FILE) for entry in tree.files)
            for entry in tree.dirs:
                keys.add((entry.meta_checksum, DIR_META))
                pending.append(entry.tree_checksum)
        return keys

    # --------------------------------------------------------------- helpers

    def _discover(self, key: Key, trees: list[str], leaves: list[Key]) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        if key[1] == DIR_TREE:
            trees.append(key[0])
        else:
            leaves.append(key)

    async def _lookup(self, keys: list[Key]) -> dict[Key, Known]:
        if not keys:
            return {}
        async with self.ctx.reading() as session:
            return await lookup_objects(session, keys)

    def _leaf(self, key: Key, known: Known | None) -> None:
        checksum, typ = key
        if known is not None and (known.file is not None or (typ == FILE and not self.download_files)):
            self.saver.ids[key] = known.pulp_id
            return
        existing = known.pulp_id if known is not None else None
        if typ == FILE and not self.download_files:
            # on_demand: the content app fetches (and verifies) it on first request.
            self.object_progress.increment()
            self._queue.put_nowait(NewObject(checksum, typ, url=self.fetcher.url(_path(key))))
            return
        if self.object_progress.total is None:
            self.object_progress.total = 0
        self.object_progress.total += 1
        self._queue.put_nowait(NewObject(checksum, typ, existing_id=existing))

    async def _tree(self, checksum: str, known: Known | None) -> DirTree:
        if known is not None and known.file is not None:
            data = self.ctx.storage.path(known.file).read_bytes()
            self.saver.ids[(checksum, DIR_TREE)] = known.pulp_id
        else:
            data, stored = await self.fetcher.metadata_object(checksum, ObjectType.DIR_TREE, store=True)
            self.metadata_progress.increment()
            await self.saver.add(NewObject(checksum, DIR_TREE, stored=stored,
                                           existing_id=known.pulp_id if known else None))
        tree = DirTree.from_bytes(data)
        self.trees[checksum] = tree
        return tree

    async def _worker(self) -> None:
        while True:
            obj = await self._queue.get()
            try:
                if obj.url is None:
                    if obj.typ == FILE:
                        obj.stored = await self.fetcher.content_object(obj.checksum)
                    else:
                        _, obj.stored = await self.fetcher.metadata_object(obj.checksum, ObjectType(obj.typ),
                                                                           store=True)
                    self.object_progress.increment()
                await self.saver.add(obj)
            finally:
                self._queue.task_done()

    def _check_workers(self) -> None:
        for worker in self._workers:
            if worker.done():
                raise worker.exception() or TaskError("A download worker stopped unexpectedly.")

    async def _drain(self) -> None:
        join = asyncio.ensure_future(self._queue.join())
        try:
            while not join.done():
                await asyncio.wait([join, *self._workers], return_when=asyncio.FIRST_COMPLETED)
                self._check_workers()
        finally:
            join.cancel()


def _path(key: Key) -> str:
    return object_path(key[0], ObjectType(key[1]))
