"""Generate a simple static delta that libostree clients accept.

Every object reachable from the target commit but not from the source commit goes into
uncompressed parts as one open-splice-close operation each; content objects above a size
threshold become fallbacks the client fetches as loose objects. The commit itself is not in
any part: clients write it from the copy embedded in the superblock.

Objects come from a caller-supplied loader, so deltas can be built from any storage:
``load_object(checksum, objtype)`` returns the raw bytes of metadata objects and
``(FileHeader, uncompressed content)`` for content objects. A caller holding parsed dirtrees
passes ``load_tree`` too; :func:`delta_objects` tells which objects a delta will carry, so
their files can be looked up in one go beforehand.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from .deltas import (
    COMPRESSION_NONE,
    KEY_ENDIANNESS,
    OP_OPEN_SPLICE_AND_CLOSE,
    DeltaFallback,
    DeltaPart,
    DeltaPartMeta,
    Superblock,
    delta_name,
    delta_part_path,
    delta_superblock_path,
    encode_varint,
)
from .errors import FormatError
from .filez import DEFAULT_COMPRESSION_LEVEL, FileHeader, content_checksum
from .gvariant import Variant
from .objects import Commit, DirTree, ObjectType, Xattrs, metadata_checksum
from .traverse import TreeLoader

ObjectLoader = Callable[[str, ObjectType], bytes | tuple[FileHeader, bytes]]

FALLBACK_THRESHOLD = 1 << 20
# Parts are stored uncompressed and built in memory (a few copies at once while serialised):
# smaller parts keep a big delta's peak memory low; clients fetch them in parallel anyway.
MAX_PART_SIZE = 8 << 20


@dataclass(frozen=True)
class GeneratedDelta:
    """A generated delta: the superblock and part files, ready to store."""

    from_checksum: str | None
    to_checksum: str
    superblock: bytes
    parts: tuple[bytes, ...]

    @property
    def name(self) -> str:
        """Key for the summary's ``ostree.static-deltas`` and for delta indexes."""
        return delta_name(self.from_checksum, self.to_checksum)

    @property
    def superblock_checksum(self) -> str:
        return hashlib.sha256(self.superblock).hexdigest()

    @property
    def files(self) -> dict[str, bytes]:
        """``{repo-relative path: bytes}`` for the superblock and every part."""
        files = {delta_superblock_path(self.from_checksum, self.to_checksum): self.superblock}
        for index, part in enumerate(self.parts):
            files[delta_part_path(self.from_checksum, self.to_checksum, index)] = part
        return files


class _PartBuilder:
    """Accumulates objects into one part: a data blob plus an opcode per object."""

    def __init__(self) -> None:
        self.modes: dict[tuple[int, int, int], int] = {}
        self.xattrs: dict[Xattrs, int] = {}
        self.blob = bytearray()
        self.operations = bytearray()
        self.objects: list[tuple[ObjectType, str]] = []

    def add_metadata(self, objtype: ObjectType, checksum: str, data: bytes) -> None:
        self._operation(len(data), len(self.blob))
        self.blob.extend(data)
        self.objects.append((objtype, checksum))

    def add_content(self, checksum: str, header: FileHeader, content: bytes) -> None:
        data = header.symlink_target.encode("utf-8") if header.is_symlink else content
        mode_index = self.modes.setdefault((header.uid, header.gid, header.mode), len(self.modes))
        xattrs_index = self.xattrs.setdefault(tuple(sorted(header.xattrs)), len(self.xattrs))
        self._operation(mode_index, xattrs_index, len(data), len(self.blob))
        self.blob.extend(data)
        self.objects.append((ObjectType.FILE, checksum))

    def _operation(self, *operands: int) -> None:
        self.operations.append(OP_OPEN_SPLICE_AND_CLOSE)
        for operand in operands:
            self.operations.extend(encode_varint(operand))

    def build(self) -> tuple[bytes, DeltaPartMeta]:
        blob_size = len(self.blob)
        # The blob is handed over, not kept: one copy of the data alive while serialising.
        payload, self.blob = bytes(self.blob), bytearray()
        part = DeltaPart(
            modes=tuple(self.modes),
            xattrs=tuple(self.xattrs),
            payload=payload,
            operations=bytes(self.operations),
        )
        del payload
        part_bytes = part.to_bytes(COMPRESSION_NONE)
        del part
        meta = DeltaPartMeta(
            checksum=hashlib.sha256(part_bytes).hexdigest(),
            compressed_size=len(part_bytes),
            # libostree records (about) the size of the object data here, not of the payload
            # variant; clients only use it for progress and disk-space estimates.
            uncompressed_size=blob_size,
            objects=tuple(self.objects),
        )
        return part_bytes, meta


def _verifying(load_object: ObjectLoader) -> Callable[[str, ObjectType], bytes]:
    """A metadata loader that checks (and remembers) what ``load_object`` returns."""
    cache: dict[tuple[str, ObjectType], bytes] = {}

    def load_metadata(checksum: str, objtype: ObjectType) -> bytes:
        key = (checksum, objtype)
        if key not in cache:
            data = load_object(checksum, objtype)
            if not isinstance(data, bytes) or metadata_checksum(data) != checksum:
                raise FormatError(f"{objtype.type_name} {checksum} failed verification")
            cache[key] = data
        return cache[key]

    return load_metadata


def _tree_loader(load_metadata, load_tree: TreeLoader | None) -> TreeLoader:
    if load_tree is not None:
        return load_tree
    return lambda checksum: DirTree.from_bytes(load_metadata(checksum, ObjectType.DIR_TREE))


def delta_objects(
    from_checksum: str | None,
    to_checksum: str,
    load_metadata: Callable[[str, ObjectType], bytes],
    load_tree: TreeLoader | None = None,
) -> list[tuple[str, ObjectType]]:
    """The objects (but the commit) reachable from ``to_checksum`` and not from
    ``from_checksum``, in the order a delta carries them (that of
    :func:`iter_commit_objects`)."""
    trees = _tree_loader(load_metadata, load_tree)
    old_trees, old_metas, old_files = _reachable(from_checksum, load_metadata, trees)
    commit = Commit.from_bytes(load_metadata(to_checksum, ObjectType.COMMIT))
    carried: list[tuple[str, ObjectType]] = []
    seen_trees: set[str] = set()
    seen_metas: set[str] = set()
    seen_files: set[str] = set()
    pending = [(commit.root_dirtree, commit.root_dirmeta)]
    while pending:
        tree_checksum, meta_checksum = pending.pop()
        if meta_checksum not in seen_metas:
            seen_metas.add(meta_checksum)
            if meta_checksum not in old_metas:
                carried.append((meta_checksum, ObjectType.DIR_META))
        # A tree the source has is there with everything below it: nothing to carry.
        if tree_checksum in seen_trees or tree_checksum in old_trees:
            continue
        seen_trees.add(tree_checksum)
        carried.append((tree_checksum, ObjectType.DIR_TREE))
        tree = trees(tree_checksum)
        for entry in tree.files:
            if entry.checksum not in seen_files:
                seen_files.add(entry.checksum)
                if entry.checksum not in old_files:
                    carried.append((entry.checksum, ObjectType.FILE))
        pending.extend((d.tree_checksum, d.meta_checksum) for d in reversed(tree.dirs))
    return carried


def _reachable(commit_checksum: str | None, load_metadata, trees: TreeLoader) -> tuple[set[str], set[str], set[str]]:
    """Checksums of the dirtrees, dirmeta and files under a commit (empty for None),
    gathered a directory at a time."""
    tree_checksums: set[str] = set()
    metas: set[str] = set()
    files: set[str] = set()
    if commit_checksum is None:
        return tree_checksums, metas, files
    commit = Commit.from_bytes(load_metadata(commit_checksum, ObjectType.COMMIT))
    metas.add(commit.root_dirmeta)
    pending = [commit.root_dirtree]
    while pending:
        checksum = pending.pop()
        if checksum in tree_checksums:
            continue
        tree_checksums.add(checksum)
        tree = trees(checksum)
        files.update(entry.checksum for entry in tree.files)
        metas.update(entry.meta_checksum for entry in tree.dirs)
        pending.extend(entry.tree_checksum for entry in tree.dirs)
    return tree_checksums, metas, files


def generate_delta(
    from_checksum: str | None,
    to_checksum: str,
    load_object: ObjectLoader,
    *,
    load_tree: TreeLoader | None = None,
    objects: list[tuple[str, ObjectType]] | None = None,
    fallback_threshold: int = FALLBACK_THRESHOLD,
    max_part_size: int = MAX_PART_SIZE,
    timestamp: int | None = None,
) -> GeneratedDelta:
    """Build the delta ``from_checksum`` -> ``to_checksum`` (``None`` = from scratch).

    Content objects larger than ``fallback_threshold`` bytes become fallbacks; a new part is
    started once a part's data reaches ``max_part_size``. ``timestamp`` (seconds) defaults to
    the target commit's timestamp so that regenerating gives identical bytes. ``load_tree``
    supplies parsed dirtrees the caller trusts (they only decide which objects go in; every
    object that goes in is loaded and verified); ``objects``, what :func:`delta_objects`
    returned for the same commits, if the caller has it already.
    """
    load_metadata = _verifying(load_object)
    commit_bytes = load_metadata(to_checksum, ObjectType.COMMIT)
    commit = Commit.from_bytes(commit_bytes)
    if commit.to_bytes() != commit_bytes:
        raise FormatError(f"commit {to_checksum} is not in GVariant normal form")

    parts: list[bytes] = []
    part_metas: list[DeltaPartMeta] = []
    fallbacks: list[DeltaFallback] = []
    builder = _PartBuilder()
    if objects is None:
        objects = delta_objects(from_checksum, to_checksum, load_metadata, load_tree)
    for checksum, objtype in objects:
        if objtype.is_metadata:
            builder.add_metadata(objtype, checksum, load_metadata(checksum, objtype))
        else:
            header, content = _load_content(load_object, checksum)
            if len(content) > fallback_threshold:
                fallbacks.append(_fallback(checksum, header, content))
            else:
                builder.add_content(checksum, header, content)
        if len(builder.blob) >= max_part_size:
            _flush(builder, parts, part_metas)
            builder = _PartBuilder()
    if builder.objects:
        _flush(builder, parts, part_metas)

    superblock = Superblock(
        to_checksum=to_checksum,
        commit=commit,
        from_checksum=from_checksum,
        timestamp=commit.timestamp if timestamp is None else timestamp,
        parts=tuple(part_metas),
        fallbacks=tuple(fallbacks),
        metadata={KEY_ENDIANNESS: Variant("y", ord("l"))},
    )
    return GeneratedDelta(from_checksum, to_checksum, superblock.to_bytes(), tuple(parts))


def _flush(builder: _PartBuilder, parts: list[bytes], metas: list[DeltaPartMeta]) -> None:
    part, meta = builder.build()
    parts.append(part)
    metas.append(meta)


def _load_content(load_object: ObjectLoader, checksum: str) -> tuple[FileHeader, bytes]:
    loaded = load_object(checksum, ObjectType.FILE)
    if not isinstance(loaded, tuple) or len(loaded) != 2:
        raise FormatError(f"loader must return (FileHeader, bytes) for file {checksum}")
    header, content = loaded
    # A wrong object would only fail on the client, after the delta was advertised.
    if content_checksum(header, content) != checksum:
        raise FormatError(f"file object {checksum} failed verification")
    return header, content


def _fallback(checksum: str, header: FileHeader, content: bytes) -> DeltaFallback:
    # Clients only use these sizes for progress and space estimates; report what our own
    # .filez encoding of the object would weigh.
    deflater = zlib.compressobj(DEFAULT_COMPRESSION_LEVEL, zlib.DEFLATED, -15)
    compressed = sum(
        len(piece)
        for piece in (
            deflater.compress(content[pos : pos + (1 << 20)])
            for pos in range(0, len(content), 1 << 20)
        )
    ) + len(deflater.flush())
    header_size = len(header.archive_header(len(content)))
    return DeltaFallback(ObjectType.FILE, checksum, header_size + compressed, len(content))
