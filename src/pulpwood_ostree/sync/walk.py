"""Breadth-first, concurrent walk of the trees of new commits.

Level by level across ALL commits at once: the dirtrees of one level are looked up in the
database in batches, the unknown ones downloaded concurrently (known ones are read back
from storage), parsed, and their children form the next level. Dirmeta and file objects
go to the object stream (stream.py) as soon as they are discovered, so file downloads run
while the tree is still being expanded. Every object is handled once per sync, however many
commits share it.
"""

from __future__ import annotations

import asyncio
import uuid

from pulpwood.plugin import ProgressReport
from pulpwood_ostree.formats import DirTree, ObjectType
from pulpwood_ostree.sync.fetch import Fetcher
from pulpwood_ostree.sync.store import Key, Known, NewObject, ObjectSaver, lookup_objects, path_of
from pulpwood_ostree.sync.stream import ObjectStream

FILE, DIR_TREE, DIR_META = int(ObjectType.FILE), int(ObjectType.DIR_TREE), int(ObjectType.DIR_META)


class TreeWalker:
    def __init__(self, ctx, fetcher: Fetcher, saver: ObjectSaver, *, download_files: bool,
                 metadata_progress: ProgressReport, object_progress: ProgressReport) -> None:
        self.ctx = ctx
        self.fetcher = fetcher
        self.saver = saver
        self.download_files = download_files
        self.metadata_progress = metadata_progress
        self.object_progress = object_progress
        self.trees: dict[str, DirTree] = {}
        self._own_ids: dict[str, tuple[uuid.UUID, ...]] = {}
        self._seen: set[Key] = set()
        self._stream: ObjectStream | None = None

    # ---------------------------------------------------------------- public

    async def walk(self, roots: list[tuple[str, str]]) -> None:
        """Make every object under the given (root dirtree, root dirmeta) pairs stored."""
        self._stream = stream = ObjectStream(self.fetcher, self._stored, busy=self.saver.backlogged)
        self.saver.on_error = stream.fail
        try:
            trees: list[str] = []
            leaves: list[Key] = []
            for tree, meta in roots:
                self._discover((tree, DIR_TREE), trees, leaves)
                self._discover((meta, DIR_META), trees, leaves)
            while trees or leaves:
                stream.check()
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
            await stream.drain()
            await self.saver.flush()
        finally:
            stream.close()
            self.saver.on_error = None
            await self.saver.stop()

    def reachable_ids(self, root_tree: str, root_meta: str, ids: dict[Key, uuid.UUID]) -> set[uuid.UUID]:
        """The unit ids of everything under a root (from the trees seen by this walk).

        Commits of one history share most trees: each tree's own ids (itself, its files,
        its subdirectories' dirmeta) are resolved once and reused, so a commit costs a
        set update per directory rather than a lookup per object.
        """
        found: set[uuid.UUID] = {ids[(root_meta, DIR_META)]}
        visited: set[str] = set()
        pending = [root_tree]
        while pending:
            checksum = pending.pop()
            if checksum in visited:
                continue
            visited.add(checksum)
            own = self._own_ids.get(checksum)
            if own is None:
                tree = self.trees[checksum]
                own = self._own_ids[checksum] = (
                    ids[(checksum, DIR_TREE)],
                    *(ids[(entry.checksum, FILE)] for entry in tree.files),
                    *(ids[(entry.meta_checksum, DIR_META)] for entry in tree.dirs),
                )
            found.update(own)
            pending.extend(entry.tree_checksum for entry in self.trees[checksum].dirs)
        return found

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
            self.saver.add_nowait([NewObject(checksum, typ, url=self.fetcher.url(_path(key)))])
            return
        if self.object_progress.total is None:
            self.object_progress.total = 0
        self.object_progress.total += 1
        self._stream.want(NewObject(checksum, typ, existing_id=existing))

    def _stored(self, objects: list[NewObject]) -> None:
        self.object_progress.increment(len(objects))
        self.saver.add_nowait(objects)

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


def _path(key: Key) -> str:
    return path_of(*key)
