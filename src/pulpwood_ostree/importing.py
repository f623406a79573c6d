"""Import an archive-mode OSTree repository from a tarball artifact (spec §4).

`import_all_refs_and_commits` imports the config, every ref and each ref's history found in
the tarball; `import_child_commits` adds the commits of one ref whose history continues a
commit pulpwood already has. In both, a chain whose oldest commit's parent is missing from
the tarball is attached to that parent when pulpwood has it, and refused otherwise.

Work off the event loop (extracting, verifying checksums, copying files into storage) runs
in a thread; everything written to the database happens in one transaction that also
creates the new version, so a failed import leaves no version and no half-saved units.
"""

from __future__ import annotations

import asyncio
import shutil
import tarfile
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from pulpwood.plugin import Artifact, TaskError
from pulpwood_ostree.bulk import link_commit_objects, save_artifacts, save_units
from pulpwood_ostree.formats import (
    FormatError, ObjectType, filez_checksum, list_refs, metadata_checksum, object_path, read_commit,
    read_config, walk_commit,
)
from pulpwood_ostree.models import OstreeCommit, OstreeConfig, OstreeObject, OstreeRef, OstreeRepository
from pulpwood_ostree.units import save_file_unit
from pulpwood_ostree.versioning import commit_ostree_version


@dataclass
class CommitPlan:
    checksum: str
    parent: str | None
    objects: list[tuple[str, int, str]]  # (checksum, type number, relative path), commit excluded


@dataclass
class ImportPlan:
    config: bytes | None = None
    refs: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (head, ref file bytes)
    commits: dict[str, CommitPlan] = field(default_factory=dict)
    files: dict[str, object] = field(default_factory=dict)  # relative path -> StoredFile
    # ref name -> checksum of the parent its oldest tarball commit needs from pulpwood.
    missing_parents: dict[str, str] = field(default_factory=dict)
    # ref name -> its commits, head first.
    chains: dict[str, list[str]] = field(default_factory=dict)


def extract(tar_path: Path, dest: Path, repository_name: str) -> Path:
    """Extract the members under `repository_name/` safely; the repository directory."""
    name = PurePosixPath(repository_name.strip("/"))
    if not name.parts or ".." in name.parts:
        raise TaskError(f"An invalid path to the repository provided: {repository_name}")
    try:
        with tarfile.open(tar_path) as tar:
            wanted = []
            for member in tar:
                parts = tuple(p for p in PurePosixPath(member.name).parts if p != ".")
                if parts[:len(name.parts)] == name.parts:
                    wanted.append(member)
            # The "data" filter refuses absolute paths, "..", links leaving the tree and devices.
            tar.extractall(dest, members=wanted, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise TaskError(f"The tarball could not be extracted: {exc}") from None
    repo = dest / name
    if not (repo / "config").is_file() or not (repo / "objects").is_dir():
        raise TaskError(f"An invalid path to the repository provided: {repository_name}")
    return repo


def _store_file(storage, path: Path):
    with storage.writer() as writer, open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            writer.write(block)
        return writer.commit()


def _verify(path: Path, checksum: str, objtype: ObjectType) -> None:
    if objtype.is_metadata:
        actual = metadata_checksum(path.read_bytes())
    else:
        with open(path, "rb") as stream:
            actual = filez_checksum(stream)
    if actual != checksum:
        raise TaskError(f"The {objtype.type_name} object {checksum} in the tarball is corrupt "
                        f"(its checksum is {actual}).")


def scan(repo: Path, storage, ref_names: list[str]) -> ImportPlan:
    """Walk each ref's history in the tarball, verify and store every file (runs in a thread)."""
    plan = ImportPlan()
    all_refs = list_refs(repo)
    for ref in ref_names:
        head = all_refs[ref]
        plan.refs[ref] = (head, (repo / "refs" / "heads" / ref).read_bytes())
        chain: list[str] = []
        current: str | None = head
        while current is not None and current not in chain:
            if not (repo / object_path(current, ObjectType.COMMIT)).is_file():
                if current == head:
                    raise TaskError(f"The commit {head} of ref {ref} is missing from the tarball.")
                plan.missing_parents[ref] = current
                break
            chain.append(current)
            if current not in plan.commits:
                plan.commits[current] = _scan_commit(repo, storage, plan, current)
            current = plan.commits[current].parent
        plan.chains[ref] = chain
    return plan


def _scan_commit(repo: Path, storage, plan: ImportPlan, checksum: str) -> CommitPlan:
    commit_rel = object_path(checksum, ObjectType.COMMIT)
    _verify(repo / commit_rel, checksum, ObjectType.COMMIT)
    commit = read_commit(repo, checksum)
    objects = []
    try:
        for obj_checksum, objtype, rel in walk_commit(repo, checksum):
            if objtype in (ObjectType.COMMIT, ObjectType.COMMIT_META):
                continue
            objects.append((obj_checksum, int(objtype), rel))
            if rel not in plan.files:
                _verify(repo / rel, obj_checksum, objtype)
                plan.files[rel] = _store_file(storage, repo / rel)
    except FileNotFoundError as exc:
        raise TaskError(f"The commit {checksum} is incomplete in the tarball: missing {exc.filename}") from None
    except FormatError as exc:
        raise TaskError(f"The commit {checksum} in the tarball is malformed: {exc}") from None
    plan.files[commit_rel] = _store_file(storage, repo / commit_rel)
    return CommitPlan(checksum, commit.parent, objects)


async def _run_import(ctx, repository_pk: str, artifact_pk: str, repository_name: str, ref: str | None) -> None:
    repository_id = uuid.UUID(repository_pk)
    if ref is None:
        report = ctx.progress("Committing the tarball", "committing.tarball", total=1)
    else:
        report = ctx.progress("Adding the child commits", "adding.commits", total=1)
    async with ctx.reading() as session:
        artifact = await session.get(Artifact, uuid.UUID(artifact_pk))
        repository = await session.get(OstreeRepository, repository_id)
        if artifact is None:
            raise TaskError("The artifact to import no longer exists.")
        if repository is None:
            raise TaskError("The repository was deleted.")
        compute_delta = repository.compute_delta
        tar_path = ctx.storage.path(artifact.file)
    scratch = Path(tempfile.mkdtemp(prefix="ostree-import-", dir=ctx.storage.tmp_dir))
    try:
        repo = await asyncio.to_thread(extract, tar_path, scratch, repository_name)
        try:
            config = read_config(repo)
            tar_refs = list_refs(repo)
        except (FormatError, OSError, UnicodeDecodeError):
            raise TaskError(f"An invalid path to the repository provided: {repository_name}") from None
        if not config.is_archive:
            raise TaskError(f"The repository {repository_name} in the tarball is not an archive-mode repository "
                            f"(mode {config.mode}).")
        if ref is not None and ref not in tar_refs:
            raise TaskError(f"An invalid ref name in the repository was specified: {ref}")
        plan = await asyncio.to_thread(scan, repo, ctx.storage, [ref] if ref else sorted(tar_refs))
        if ref is None:
            plan.config = (repo / "config").read_bytes()
        elif plan.commits[plan.refs[ref][0]].parent is None:
            raise TaskError("The provided ref does not exist in the repository yet. Try importing first the "
                            "whole repository, then additional commits.")
        async with ctx.transaction() as session:
            await _save(ctx, session, repository_id, plan, compute_delta)
        report.increment()
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def _save(ctx, session, repository_id, plan: ImportPlan, compute_delta: bool) -> None:
    known_parents: dict[str, uuid.UUID] = {}
    for ref, parent in plan.missing_parents.items():
        found = await session.scalar(select(OstreeCommit.pulp_id).where(OstreeCommit.checksum == parent).limit(1))
        if found is None:
            raise TaskError(f"The parent commit '{parent}' could not be loaded")
        known_parents[parent] = found
    artifact_ids = await save_artifacts(session, plan.files.values())
    by_path = {rel: artifact_ids[stored.digests["sha256"]] for rel, stored in plan.files.items()}
    object_rows = {}
    for commit in plan.commits.values():
        for checksum, typ, rel in commit.objects:
            object_rows[rel] = {"checksum": checksum, "typ": typ, "relative_path": rel}
    object_ids = await save_units(session, OstreeObject, list(object_rows.values()), by_path)
    commit_rows = [{"checksum": c.checksum, "relative_path": object_path(c.checksum, ObjectType.COMMIT),
                    "parent_commit_id": None} for c in plan.commits.values()]
    commit_ids = await save_units(session, OstreeCommit, commit_rows, by_path)
    id_of = {checksum: commit_ids[(checksum, rel)] for checksum, rel in
             ((row["checksum"], row["relative_path"]) for row in commit_rows)}
    id_of.update({k: v for k, v in known_parents.items() if k not in id_of})
    for commit in plan.commits.values():
        if commit.parent and commit.parent in id_of:
            unit = await session.get(OstreeCommit, id_of[commit.checksum])
            unit.parent_commit_id = id_of[commit.parent]
    await link_commit_objects(session, {
        (id_of[c.checksum], object_ids[(checksum, rel)]) for c in plan.commits.values()
        for checksum, _typ, rel in c.objects})
    await session.flush()
    added = set(id_of[c] for c in plan.commits) | set(object_ids.values())
    for name, (head, data) in plan.refs.items():
        unit = await save_file_unit(session, ctx.storage, OstreeRef, f"refs/heads/{name}", data,
                                    name=name, commit_id=id_of[head])
        added.add(unit.pulp_id)
    if plan.config is not None:
        added.add((await save_file_unit(session, ctx.storage, OstreeConfig, "config", plan.config)).pulp_id)
    pairs = []
    if compute_delta:
        for name, (head, _data) in plan.refs.items():
            parent = plan.commits[head].parent
            if parent and parent in id_of:
                pairs.append((parent, head))
    await commit_ostree_version(ctx, repository_id, add=added, compute_delta_pairs=pairs, session=session)


async def import_all_refs_and_commits(ctx, artifact_pk: str, repository_pk: str, repository_name: str) -> None:
    await _run_import(ctx, repository_pk, artifact_pk, repository_name, None)


async def import_child_commits(ctx, artifact_pk: str, repository_pk: str, repository_name: str, ref: str) -> None:
    await _run_import(ctx, repository_pk, artifact_pk, repository_name, ref)
