"""Content-addressed artifact storage on a filesystem.

Bytes go to a temporary file in the same filesystem, every digest is computed while they
are written, and only a verified file is renamed to `artifact/<sha256[:2]>/<sha256[2:]>`.
A file under an artifact name therefore always matches its name, and an artifact that is
already stored is never written twice.

Bytes already in memory (most OSTree objects, metadata files) take a shorter way: an
anonymous file (O_TMPFILE) in the artifact's own directory, linked under its name once
written. Tens of thousands of small artifacts per sync made the shared temp directory the
bottleneck: every create and rename there serialises on that one directory's lock, and a
crash leaves no half-written file behind since an anonymous file vanishes with its process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pulpwood.errors import DigestMismatch

DIGESTS = ("sha224", "sha256", "sha384", "sha512")


@dataclass(frozen=True)
class StoredFile:
    """What storage knows about a verified file: its storage name, size and digests."""

    file: str
    size: int
    digests: dict[str, str]


class DigestingWriter:
    """A temporary file that hashes what is written to it; `commit()` verifies and stores it."""

    def __init__(self, storage: ArtifactStorage, digests: tuple[str, ...] = DIGESTS) -> None:
        self._storage = storage
        fd, self.path = tempfile.mkstemp(dir=storage.tmp_dir, prefix="upload-")
        self._file = os.fdopen(fd, "wb")
        self._hashers = {name: hashlib.new(name) for name in digests}
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        for hasher in self._hashers.values():
            hasher.update(data)
        self.size += len(data)

    def flush(self) -> None:
        """Make what was written readable through `path` (before commit or discard)."""
        self._file.flush()

    def digests(self) -> dict[str, str]:
        return {name: hasher.hexdigest() for name, hasher in self._hashers.items()}

    def verify(self, expected: dict[str, object], what: str) -> dict[str, str]:
        """Raise DigestMismatch naming `what` unless size and every given digest match."""
        actual = self.digests()
        size = expected.get("size")
        if size is not None and int(size) != self.size:
            raise DigestMismatch(f"Size of {what} is {self.size} bytes, expected {size}.")
        for name, value in expected.items():
            if name == "size" or value in (None, ""):
                continue
            if name not in actual:
                continue
            if str(value).lower() != actual[name]:
                raise DigestMismatch(
                    f"The {name} checksum of {what} is {actual[name]}, expected {value}."
                )
        return actual

    def commit(self) -> StoredFile:
        """Move the verified file into place (or drop it if the artifact is already stored)."""
        self._file.close()
        digests = self.digests()
        name = self._storage.name_for(digests["sha256"])
        target = self._storage.root / name
        if target.exists():
            os.unlink(self.path)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path, target)
        return StoredFile(file=name, size=self.size, digests=digests)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> DigestingWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()


class ArtifactStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        (root / "artifact").mkdir(parents=True, exist_ok=True)
        self._made_dirs: set[str] = set()
        self._anonymous_files = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")

    @staticmethod
    def name_for(sha256: str) -> str:
        return f"artifact/{sha256[:2]}/{sha256[2:]}"

    def path(self, name: str) -> Path:
        return self.root / name

    def exists(self, sha256: str) -> bool:
        return (self.root / self.name_for(sha256)).exists()

    def writer(self, digests: tuple[str, ...] = DIGESTS) -> DigestingWriter:
        return DigestingWriter(self, digests)

    def store_bytes(self, data: bytes, digests: tuple[str, ...] = DIGESTS) -> StoredFile:
        """Store bytes held in memory; `digests` are computed (sha256 always)."""
        hashes = {name: hashlib.new(name, data).hexdigest() for name in {"sha256", *digests}}
        name = self.name_for(hashes["sha256"])
        self._create(name, data)
        return StoredFile(file=name, size=len(data), digests=hashes)

    def _create(self, name: str, data: bytes) -> None:
        """Put `data` under `name` unless it is there already; never a partial file."""
        directory = os.path.dirname(os.path.join(self.root, name))
        if directory not in self._made_dirs:
            os.makedirs(directory, exist_ok=True)
            self._made_dirs.add(directory)
        target = os.path.join(self.root, name)
        if self._anonymous_files:
            try:
                fd = os.open(directory, os.O_WRONLY | os.O_TMPFILE | os.O_CLOEXEC, 0o600)
            except OSError:  # the filesystem cannot do it (e.g. NFS): named temp files
                self._anonymous_files = False
            else:
                try:
                    _write_all(fd, data)
                    try:
                        # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N names the open file.
                        os.link(str(fd), target, src_dir_fd=_proc_fds())
                    except FileExistsError:
                        pass  # stored meanwhile, and equal: the name is its digest
                finally:
                    os.close(fd)
                return
        temp = os.path.join(directory, f".tmp-{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def delete(self, name: str) -> None:
        try:
            os.unlink(self.root / name)
        except FileNotFoundError:
            pass

    def usage(self) -> dict[str, int]:
        total, used, free = shutil.disk_usage(self.root)
        return {"total": total, "used": used, "free": free}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


_PROC_FDS: tuple[int, int] | None = None  # (pid, descriptor)


def _proc_fds() -> int:
    """A directory descriptor of /proc/self/fd, opened once per process.

    "self" is resolved when it is opened: a forked child must open its own, or it would
    name its parent's descriptors."""
    global _PROC_FDS
    pid = os.getpid()
    if _PROC_FDS is None or _PROC_FDS[0] != pid:
        _PROC_FDS = (pid, os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    return _PROC_FDS[1]
