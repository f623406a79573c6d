"""The OSTree sync task: mirror an upstream archive repository into a new repository version.

Steps: `config` and `summary` (refs; `refs/heads/<name>` when there is no summary), ref
selection, each selected ref's history to `depth`, then one breadth-first concurrent walk of
the trees of every commit not fully stored yet (see walk.py), commits and their object
links, refs, commit metadata, upstream static deltas, and finally ONE transaction writing
the version. Everything before that last transaction only adds units/artifacts, so a failed
or canceled sync leaves at most orphans, never a version.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import logging
import time
import uuid

from sqlalchemy import select

from pulpwood.plugin import (
    Content, DownloadConfig, Downloader, TaskError, content_ids_in, latest_version,
)
from pulpwood_ostree.formats import (
    Commit, FormatError, ObjectType, RepoConfig, Summary, Superblock, delta_part_path,
    delta_superblock_path, is_checksum, object_path, parse_delta_name,
)
from pulpwood_ostree.models import OstreeConfig, OstreeContent, OstreeRef, OstreeRemote, OstreeRepository
from pulpwood_ostree.static_deltas import build_delta, save_delta, store_delta
from pulpwood_ostree.sync.fetch import Fetcher
from pulpwood_ostree.sync.store import (
    KnownCommit, NewCommit, ObjectSaver, commit_object_ids, link_parents, lookup_commit, save_commit_objects,
    save_commits,
)
from pulpwood_ostree.sync.walk import TreeWalker
from pulpwood_ostree.versioning import commit_ostree_version

log = logging.getLogger(__name__)

# Requests in flight for ostree objects; most are small, so many at once hides latency.
DEFAULT_CONCURRENCY = 32
MAX_COMMIT_SIZE = 64 << 20


class SyncPlan:
    """What this sync saw upstream: commits per ref, in head-first order."""

    def __init__(self) -> None:
        self.refs: dict[str, str] = {}
        self.chains: dict[str, list[str]] = {}
        self.commit_bytes: dict[str, bytes] = {}
        self.known: dict[str, KnownCommit] = {}
        self.new: dict[str, NewCommit] = {}
        self.commitmeta: dict[str, bytes] = {}


def select_refs(refs: dict[str, str], include: list[str] | None, exclude: list[str] | None) -> dict[str, str]:
    """fnmatch include patterns first, then exclude patterns; empty or null lists = no filter."""
    names = sorted(refs)
    if include:
        names = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in include)]
    if exclude:
        names = [n for n in names if not any(fnmatch.fnmatchcase(n, p) for p in exclude)]
    return {n: refs[n] for n in names}


async def synchronize(ctx, remote_pk: str, repository_pk: str, mirror: bool = False) -> None:
    async with ctx.reading() as session:
        remote = await session.get(OstreeRemote, uuid.UUID(str(remote_pk)))
        repository = await session.get(OstreeRepository, uuid.UUID(str(repository_pk)))
        if remote is None or repository is None:
            raise TaskError("The remote or the repository no longer exists.")
        if not remote.url:
            raise TaskError("A remote must have a url specified to synchronize.")
        config = DownloadConfig.from_remote(remote)
        remote_id, repository_id = remote.pulp_id, repository.pulp_id
        depth = remote.depth if remote.depth is not None else 0
        include, exclude = remote.include_refs, remote.exclude_refs
        policy = remote.policy or "immediate"
        compute_delta = repository.compute_delta
    concurrency = remote.download_concurrency or DEFAULT_CONCURRENCY
    metadata_progress = ctx.progress("Downloading Metadata Files", "sync.downloading.metadata")
    object_progress = ctx.progress("Downloading Artifacts", "sync.downloading.artifacts")
    async with Downloader(config, ctx.storage, concurrency=concurrency) as downloader:
        fetcher = Fetcher(downloader, config.url, ctx.storage)
        sync = _Sync(ctx, fetcher, remote_id, repository_id, depth=depth, immediate=policy == "immediate",
                     compute_delta=compute_delta and policy == "immediate",
                     metadata_progress=metadata_progress, object_progress=object_progress)
        try:
            unit_ids, plan = await _run(sync, include, exclude, metadata_progress, object_progress)
        except BaseException:
            await sync.stop_background()
            raise
        finally:
            fetcher.close()
    metadata_progress.state = object_progress.state = "completed"
    associating = ctx.progress("Associating Content", "associating.content")
    clock = _Clock()
    try:
        version = await sync.commit(plan, unit_ids, mirror)
    finally:
        await sync.stop_background()
    clock.lap(f"new version ({len(sync.delta_pairs)} delta pairs considered)")
    associating.done = 1 if version is not None else 0
    associating.state = "completed"


async def _run(sync: _Sync, include, exclude, metadata_progress, object_progress):
    clock = _Clock()
    upstream_refs, summary, config_bytes = await sync.read_repository(include)
    refs = select_refs(upstream_refs, include, exclude)
    plan = await sync.walk_histories(refs)
    clock.lap("metadata and histories")
    await sync.fetch_objects(plan)
    clock.lap(f"objects ({object_progress.done} downloaded, {sync.fetcher.bytes_downloaded} bytes)")
    sync.start_deltas(plan)
    unit_ids = await sync.save_units(plan, config_bytes, summary)
    clock.lap("commits, refs and other units")
    return unit_ids, plan


class _Clock:
    """Phase durations in the worker log: where a slow sync spends its time."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()

    def lap(self, what: str) -> None:
        now = time.monotonic()
        log.info("ostree sync: %s took %.2f s (%.2f s total)", what, now - self.last, now - self.start)
        self.last = now


class _Sync:
    def __init__(self, ctx, fetcher: Fetcher, remote_id, repository_id, *, depth: int, immediate: bool,
                 compute_delta: bool, metadata_progress, object_progress) -> None:
        self.ctx = ctx
        self.compute_delta = compute_delta
        self.delta_pairs: list[tuple[str, str]] = []
        self._building: asyncio.Future | None = None
        self._linking: asyncio.Future | None = None
        self.fetcher = fetcher
        self.remote_id = remote_id
        self.repository_id = repository_id
        self.depth = depth
        self.immediate = immediate
        self.metadata_progress = metadata_progress
        self.saver = ObjectSaver(ctx, remote_id)
        self.walker = TreeWalker(ctx, fetcher, self.saver, download_files=immediate,
                                 metadata_progress=metadata_progress, object_progress=object_progress)
        self.summary_deltas: dict[str, str] = {}

    # ------------------------------------------------------------ repository

    async def read_repository(self, include: list[str] | None) -> tuple[dict[str, str], bytes | None, bytes]:
        config_bytes, summary_bytes = await asyncio.gather(
            self.fetcher.get_bytes("config", missing_ok=True), self.fetcher.get_bytes("summary", missing_ok=True))
        self.metadata_progress.increment(2)
        if config_bytes is None:
            raise TaskError(f"The remote repository at {self.fetcher.base_url} has no config file "
                            f"({self.fetcher.url('config')}: 404); is it an OSTree repository?")
        try:
            repo_config = RepoConfig.from_text(config_bytes.decode("utf-8"))
        except (FormatError, UnicodeDecodeError) as exc:
            raise TaskError(f"The config file of {self.fetcher.base_url} is malformed: {exc}") from None
        if not repo_config.is_archive:
            raise TaskError(f"The remote repository at {self.fetcher.base_url} is in mode "
                            f"'{repo_config.mode}'; only archive repositories can be synced.")
        if summary_bytes is not None:
            try:
                summary = Summary.from_bytes(summary_bytes)
            except FormatError as exc:
                raise TaskError(f"The summary of {self.fetcher.base_url} is malformed: {exc}") from None
            self.summary_deltas = summary.static_deltas
            return summary.ref_checksums, summary_bytes, config_bytes
        names = [p for p in include or () if not any(c in p for c in "*?[")]
        if not names:
            raise TaskError(f"The remote repository at {self.fetcher.base_url} has no summary file; name the "
                            f"refs to sync in include_refs (without wildcards).")
        found = await asyncio.gather(*(self.fetcher.get_bytes(f"refs/heads/{n}", missing_ok=True) for n in names))
        refs = {}
        for name, data in zip(names, found):
            checksum = (data or b"").decode("ascii", "replace").strip()
            if data is None or not is_checksum(checksum):
                raise TaskError(f"The ref {name} does not exist in the remote repository at "
                                f"{self.fetcher.base_url} (no summary, and refs/heads/{name} is missing or invalid).")
            refs[name] = checksum
        return refs, None, config_bytes

    # ---------------------------------------------------------------- commits

    async def walk_histories(self, refs: dict[str, str]) -> SyncPlan:
        plan = SyncPlan()
        plan.refs = refs
        loading: dict[str, asyncio.Future] = {}

        async def load(checksum: str, head: bool) -> bytes | None:
            if checksum not in loading:
                loading[checksum] = asyncio.ensure_future(self._load_commit(plan, checksum, head))
            return await loading[checksum]

        async def walk(name: str, head: str) -> None:
            chain, checksum = [], head
            while checksum is not None and (self.depth < 0 or len(chain) <= self.depth):
                data = await load(checksum, head=not chain)
                if data is None:  # a parent absent upstream ends the history
                    break
                chain.append(checksum)
                checksum = Commit.from_bytes(data).parent
            plan.chains[name] = chain

        await asyncio.gather(*(walk(name, head) for name, head in refs.items()))
        return plan

    async def _load_commit(self, plan: SyncPlan, checksum: str, head: bool) -> bytes | None:
        async with self.ctx.reading() as session:
            known = await lookup_commit(session, checksum, need_files=self.immediate)
        if known is not None and known.file is not None:
            plan.known[checksum] = known
            data = self.ctx.storage.path(known.file).read_bytes()
            if not known.complete:
                await self._commitmeta(plan, checksum)
        else:
            fetched, _ = await asyncio.gather(
                self.fetcher.metadata_object(checksum, ObjectType.COMMIT, missing_ok=not head, store=True),
                self._commitmeta(plan, checksum))
            if fetched is None:
                return None
            data, stored = fetched
            self.metadata_progress.increment()
            plan.new[checksum] = NewCommit(checksum, stored)
        try:
            commit = Commit.from_bytes(data)
        except FormatError as exc:
            raise TaskError(f"The commit {checksum} is malformed: {exc}") from None
        if checksum in plan.new:
            plan.new[checksum].parent_checksum = commit.parent
        plan.commit_bytes[checksum] = data
        return data

    async def _commitmeta(self, plan: SyncPlan, checksum: str) -> None:
        data = await self.fetcher.get_bytes(object_path(checksum, ObjectType.COMMIT_META), missing_ok=True)
        if data is not None:
            plan.commitmeta[checksum] = data

    # ---------------------------------------------------------------- objects

    def _to_walk(self, plan: SyncPlan) -> list[str]:
        wanted = {c for chain in plan.chains.values() for c in chain}
        return sorted(c for c in wanted if c in plan.new or not plan.known[c].complete)

    async def fetch_objects(self, plan: SyncPlan) -> None:
        roots = []
        for checksum in self._to_walk(plan):
            commit = Commit.from_bytes(plan.commit_bytes[checksum])
            roots.append((commit.root_dirtree, commit.root_dirmeta))
        if roots:
            await self.walker.walk(roots)

    # ------------------------------------------------------------------ units

    async def save_units(self, plan: SyncPlan, config_bytes: bytes, summary_bytes: bytes | None) -> set[uuid.UUID]:
        """Save commits (with their object links), refs, config, commit metadata and deltas."""
        from pulpwood_ostree.units import save_file_unit

        wanted = [c for chain in plan.chains.values() for c in chain]
        walked = self._to_walk(plan)
        commit_ids: dict[str, uuid.UUID] = {c: k.pulp_id for c, k in plan.known.items()}
        commit_ids.update({c: n.pulp_id for c, n in plan.new.items()})
        unit_ids: set[uuid.UUID] = set()
        storage = self.ctx.storage
        async with self.ctx.transaction() as session:
            new = [plan.new[c] for c in dict.fromkeys(reversed(wanted)) if c in plan.new]
            await save_commits(session, new, commit_ids)
            await link_parents(session, {
                k.pulp_id: commit_ids[Commit.from_bytes(plan.commit_bytes[c]).parent]
                for c, k in plan.known.items()
                if k.parent_id is None and Commit.from_bytes(plan.commit_bytes[c]).parent in commit_ids})
            aside = session.bind.dialect.name == "postgresql"
            if not aside:
                await self._link_objects(session, walked, plan, commit_ids)
        if aside:
            # PostgreSQL checks each link's two foreign keys in its own process: the links go
            # in through a connection of their own while refs, deltas and the version are
            # written, and the version commits only once they are in (SQLite has one writer,
            # so there they are written in line).
            self._linking = asyncio.ensure_future(self._link_objects_aside(walked, plan, commit_ids))
        async with self.ctx.transaction() as session:
            unit_ids.update(commit_ids[c] for c in wanted)
            for name, chain in sorted(plan.chains.items()):
                ref = await save_file_unit(session, storage, OstreeRef, f"refs/heads/{name}",
                                           plan.refs[name].encode(), name=name, commit_id=commit_ids[chain[0]])
                unit_ids.add(ref.pulp_id)
            config = await save_file_unit(session, storage, OstreeConfig, "config", config_bytes)
            unit_ids.add(config.pulp_id)
            for checksum in wanted:
                data = plan.commitmeta.get(checksum)
                if data is not None:
                    meta = await save_file_unit(session, storage, OstreeContent,
                                                object_path(checksum, ObjectType.COMMIT_META), data)
                    unit_ids.add(meta.pulp_id)
            unit_ids |= await self._known_commitmeta(session, plan, wanted)
        unit_ids |= await self._deltas(plan, set(wanted))
        return unit_ids

    async def _link_objects(self, session, walked: list[str], plan: SyncPlan, commit_ids: dict) -> None:
        """Record which objects each walked commit reaches (what makes a commit complete)."""
        for checksum in walked:
            commit = Commit.from_bytes(plan.commit_bytes[checksum])
            reached = self.walker.reachable_ids(commit.root_dirtree, commit.root_dirmeta, self.saver.ids)
            await save_commit_objects(session, commit_ids[checksum], reached)

    async def _link_objects_aside(self, walked: list[str], plan: SyncPlan, commit_ids: dict) -> None:
        async with self.ctx.transaction() as session:
            await self._link_objects(session, walked, plan, commit_ids)

    async def _known_commitmeta(self, session, plan: SyncPlan, wanted: list[str]) -> set[uuid.UUID]:
        # Commits skipped as complete keep the detached metadata stored with them earlier.
        paths = [object_path(c, ObjectType.COMMIT_META) for c in wanted if c not in plan.commitmeta]
        if not paths:
            return set()
        rows = await session.execute(select(OstreeContent.pulp_id, OstreeContent.relative_path, OstreeContent.pulp_created)
                                     .where(OstreeContent.relative_path.in_(paths)))
        newest: dict[str, tuple] = {}
        for pulp_id, path, created in rows.all():
            if path not in newest or created > newest[path][1]:
                newest[path] = (pulp_id, created)
        return {pulp_id for pulp_id, _ in newest.values()}

    async def _deltas(self, plan: SyncPlan, commits: set[str]) -> set[uuid.UUID]:
        """Upstream static deltas between commits this sync holds, as OstreeContent units."""
        from pulpwood_ostree.units import save_file_unit

        ids: set[uuid.UUID] = set()
        for name, superblock_sha in sorted(self.summary_deltas.items()):
            try:
                from_checksum, to_checksum = parse_delta_name(name)
            except FormatError:
                continue
            if to_checksum not in commits or (from_checksum is not None and from_checksum not in commits):
                continue
            path = delta_superblock_path(from_checksum, to_checksum)
            data = await self.fetcher.get_bytes(path, missing_ok=True)
            if data is None:
                continue
            if hashlib.sha256(data).hexdigest() != superblock_sha:
                raise TaskError(f"The static delta {path} does not match the checksum in the summary.")
            superblock = Superblock.from_bytes(data)
            files = {path: data}
            parts = await asyncio.gather(*(self.fetcher.get_bytes(delta_part_path(from_checksum, to_checksum, i))
                                           for i in range(len(superblock.parts))))
            for index, (meta, part) in enumerate(zip(superblock.parts, parts)):
                part_path = delta_part_path(from_checksum, to_checksum, index)
                if hashlib.sha256(part).hexdigest() != meta.checksum:
                    raise TaskError(f"The static delta part {part_path} does not match its checksum.")
                files[part_path] = part
            async with self.ctx.transaction() as session:
                for file_path, content in files.items():
                    unit = await save_file_unit(session, self.ctx.storage, OstreeContent, file_path, content)
                    ids.add(unit.pulp_id)
        return ids

    # ----------------------------------------------------------------- deltas

    def start_deltas(self, plan: SyncPlan) -> None:
        """Build the static deltas parent -> head of heads new in this sync, in the background.

        Building only reads (stored objects and the trees the walk parsed), so it runs while
        the commits and their links are written; the new version then saves its files.
        """
        if self.compute_delta:
            self.delta_pairs = [(chain[1], chain[0]) for chain in plan.chains.values() if len(chain) > 1]
        fresh = [(old, new) for old, new in self.delta_pairs if new in plan.new]
        self._building = asyncio.ensure_future(self._build_deltas(fresh))

    async def _build_deltas(self, pairs: list[tuple[str, str]]) -> list:
        if not pairs:
            return []
        stored = []
        async with self.ctx.reading() as session:
            for old, new in pairs:
                delta = await build_delta(session, self.ctx.storage, old, new, trees=self.walker.trees)
                stored.append(await store_delta(self.ctx.storage, delta))
        return stored

    async def stop_background(self) -> None:
        """Cancel what still runs beside the task (it failed or was canceled)."""
        for name in ("_building", "_linking"):
            job = getattr(self, name)
            setattr(self, name, None)
            if job is not None and not job.done():
                job.cancel()
            if job is not None:
                await asyncio.gather(job, return_exceptions=True)

    async def _links_written(self) -> None:
        if self._linking is not None:
            await self._linking

    # ---------------------------------------------------------------- version

    async def commit(self, plan: SyncPlan, unit_ids: set[uuid.UUID], mirror: bool) -> object:
        deltas = await self._building if self._building is not None else []
        async with self.ctx.transaction() as session:
            latest = await latest_version(session, self.repository_id)
            # Everything but objects and the (regenerated) summary: a handful of rows.
            current_body = set(await session.scalars(
                select(Content.pulp_id)
                .where(Content.pulp_id.in_(content_ids_in(self.repository_id, latest.number)),
                       Content.pulp_type.not_in(("ostree.object", "ostree.summary")))))
            # Deltas are generated only for heads new in this sync; the others keep theirs.
            fresh_pairs = [(old, new) for old, new in self.delta_pairs if new in plan.new]
            kept_deltas = await _delta_units(session, current_body,
                                             [pair for pair in self.delta_pairs if pair not in fresh_pairs])
            body = unit_ids | kept_deltas
            # Objects always travel with their commits, so the version is unchanged exactly
            # when its other units are.
            if not fresh_pairs and (body == current_body if mirror else body <= current_body):
                await self._links_written()
                return None
            for delta in deltas:
                body |= await save_delta(session, self.ctx.storage, delta)
            walked = set(self._to_walk(plan))
            skipped = [plan.known[c].pulp_id for c in {c for ch in plan.chains.values() for c in ch} - walked]
            objects = set(self.saver.ids.values())
            objects |= await commit_object_ids(session, skipped)
            commits = {c.pulp_id for c in plan.known.values()} | {c.pulp_id for c in plan.new.values()}
            version = await commit_ostree_version(self.ctx, self.repository_id, add=body | objects,
                                                  remove_all=mirror, session=session,
                                                  objects=objects | (commits & body))
            await self._links_written()  # before this transaction commits the version
            return version


async def _delta_units(session, current: set[uuid.UUID], pairs) -> set[uuid.UUID]:
    """Ids of the OstreeContent files of the given deltas that the version already holds."""
    ids: set[uuid.UUID] = set()
    for old, new in pairs:
        prefix = delta_superblock_path(old, new).rsplit("/", 1)[0] + "/"
        found = await session.scalars(select(OstreeContent.pulp_id)
                                      .where(OstreeContent.relative_path.startswith(prefix, autoescape=True)))
        ids.update(i for i in found if i in current)
    return ids
