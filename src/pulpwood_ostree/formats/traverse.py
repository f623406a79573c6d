"""Walk the objects reachable from a commit, given any way to load metadata objects.

The walk is independent of storage: it takes a ``load_metadata(checksum, objtype) -> bytes``
callable, so the same code serves on-disk repositories, database-backed content and static
delta generation. Each object is yielded once, even when trees share subdirectories or files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .objects import Commit, DirTree, ObjectType

MetadataLoader = Callable[[str, ObjectType], bytes]
TreeLoader = Callable[[str], DirTree]


def iter_commit_objects(
    commit_checksum: str, load_metadata: MetadataLoader, load_tree: TreeLoader | None = None
) -> Iterator[tuple[str, ObjectType]]:
    """Yield ``(checksum, objtype)`` for the commit and everything under its root tree.

    Order: the commit, then per directory its dirmeta, dirtree, files, then subdirectories
    (depth-first). A dirtree seen before is not descended into again: equal checksums mean
    equal subtrees. ``load_tree`` may supply parsed dirtrees (a caller that already parsed
    them saves the work); by default they are parsed from ``load_metadata``'s bytes.
    """
    if load_tree is None:
        def load_tree(checksum: str) -> DirTree:
            return DirTree.from_bytes(load_metadata(checksum, ObjectType.DIR_TREE))

    yield commit_checksum, ObjectType.COMMIT
    commit = Commit.from_bytes(load_metadata(commit_checksum, ObjectType.COMMIT))
    seen: set[tuple[str, ObjectType]] = set()
    # An explicit stack keeps arbitrarily deep trees from hitting the recursion limit.
    pending = [(commit.root_dirtree, commit.root_dirmeta)]
    while pending:
        tree_checksum, meta_checksum = pending.pop()
        if (meta_checksum, ObjectType.DIR_META) not in seen:
            seen.add((meta_checksum, ObjectType.DIR_META))
            yield meta_checksum, ObjectType.DIR_META
        if (tree_checksum, ObjectType.DIR_TREE) in seen:
            continue
        seen.add((tree_checksum, ObjectType.DIR_TREE))
        yield tree_checksum, ObjectType.DIR_TREE
        tree = load_tree(tree_checksum)
        for entry in tree.files:
            if (entry.checksum, ObjectType.FILE) not in seen:
                seen.add((entry.checksum, ObjectType.FILE))
                yield entry.checksum, ObjectType.FILE
        pending.extend((d.tree_checksum, d.meta_checksum) for d in reversed(tree.dirs))


def reachable_objects(
    commit_checksum: str, load_metadata: MetadataLoader, load_tree: TreeLoader | None = None
) -> set[tuple[str, ObjectType]]:
    """The set form of :func:`iter_commit_objects`."""
    return set(iter_commit_objects(commit_checksum, load_metadata, load_tree))
