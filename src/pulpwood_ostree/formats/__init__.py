"""Pure-Python OSTree repository formats (no libostree, no GObject).

Public surface for the ostree plugin; everything here is re-exported from the submodules:

* ``gvariant``: the GVariant binary codec (``gvariant.parse`` / ``gvariant.serialize``),
  :class:`Variant`, byte-swap helpers.
* ``objects``: object types and paths, checksum helpers, ref names, and the metadata objects
  :class:`Commit`, :class:`DirTree`, :class:`DirMeta`.
* ``filez``: content objects: :class:`FileHeader`, streaming :class:`FilezVerifier`,
  :func:`write_filez`.
* ``config``, ``summary``, ``deltas`` / ``delta_generator``: repository-level files.
* ``traverse``, ``repo_reader``, ``commit_builder``: walking, reading and building repositories.

All malformed input raises :class:`FormatError` (a ``ValueError``).
"""

from . import gvariant
from .commit_builder import (
    BuiltCommit,
    Directory,
    RegularFile,
    Symlink,
    build_commit,
    write_repo_files,
)
from .config import RepoConfig, format_keyfile, parse_keyfile
from .delta_generator import FALLBACK_THRESHOLD, GeneratedDelta, delta_objects, generate_delta
from .deltas import (
    DeltaFallback,
    DeltaPart,
    DeltaPartMeta,
    Superblock,
    b64_to_checksum,
    build_delta_index,
    checksum_to_b64,
    delta_dir,
    delta_index_path,
    delta_name,
    delta_part_path,
    delta_superblock_path,
    parse_delta_index,
    parse_delta_name,
)
from .errors import FormatError
from .filez import (
    FileHeader,
    FilezVerifier,
    content_checksum,
    decode_filez,
    encode_filez,
    filez_bytes_checksum,
    filez_checksum,
    parse_archive_header,
    write_filez,
)
from .gvariant import Variant, bswap16, bswap32, bswap64
from .objects import (
    COMMIT_TYPE,
    DIRMETA_TYPE,
    DIRTREE_TYPE,
    Commit,
    DirMeta,
    DirTree,
    ObjectType,
    TreeDir,
    TreeFile,
    Xattrs,
    bytes_to_checksum,
    checksum_to_bytes,
    is_checksum,
    is_valid_ref,
    metadata_checksum,
    object_path,
    parse_object_path,
    validate_ref,
)
from .repo_reader import (
    has_object,
    list_refs,
    load_object,
    read_commit,
    read_config,
    read_dirmeta,
    read_dirtree,
    read_file_object,
    read_object,
    read_ref,
    walk_commit,
    walk_history,
)
from .summary import Summary, SummaryRef, build_summary, summary_ref
from .traverse import iter_commit_objects, reachable_objects

__all__ = [
    "BuiltCommit",
    "COMMIT_TYPE",
    "Commit",
    "DIRMETA_TYPE",
    "DIRTREE_TYPE",
    "DeltaFallback",
    "DeltaPart",
    "DeltaPartMeta",
    "DirMeta",
    "DirTree",
    "Directory",
    "FALLBACK_THRESHOLD",
    "FileHeader",
    "FilezVerifier",
    "FormatError",
    "GeneratedDelta",
    "ObjectType",
    "RegularFile",
    "RepoConfig",
    "Summary",
    "SummaryRef",
    "Superblock",
    "Symlink",
    "TreeDir",
    "TreeFile",
    "Variant",
    "Xattrs",
    "b64_to_checksum",
    "bswap16",
    "bswap32",
    "bswap64",
    "build_commit",
    "build_delta_index",
    "build_summary",
    "bytes_to_checksum",
    "checksum_to_b64",
    "checksum_to_bytes",
    "content_checksum",
    "decode_filez",
    "delta_dir",
    "delta_index_path",
    "delta_name",
    "delta_objects",
    "delta_part_path",
    "delta_superblock_path",
    "encode_filez",
    "filez_bytes_checksum",
    "filez_checksum",
    "format_keyfile",
    "generate_delta",
    "gvariant",
    "has_object",
    "is_checksum",
    "is_valid_ref",
    "iter_commit_objects",
    "list_refs",
    "load_object",
    "metadata_checksum",
    "object_path",
    "parse_archive_header",
    "parse_delta_index",
    "parse_delta_name",
    "parse_keyfile",
    "parse_object_path",
    "reachable_objects",
    "read_commit",
    "read_config",
    "read_dirmeta",
    "read_dirtree",
    "read_file_object",
    "read_object",
    "read_ref",
    "summary_ref",
    "validate_ref",
    "walk_commit",
    "walk_history",
    "write_filez",
    "write_repo_files",
]
