"""Content-addressed artifact storage on a filesystem.

Bytes go to a temporary file in the same filesystem, every digest is computed while they
are written, and only a verified file is renamed to `artifact/<sha256[:2]>/<sha256[2:]>`.
A file under an artifact name therefore always matches its name, and an artifact that is
already stored is never written twice.
"""

from __future__ import annotations

import hashlib
import os
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

    @staticmethod
    def name_for(sha256: str) -> str:
        return f"artifact/{sha256[:2]}/{sha256[2:]}"

    def path(self, name: str) -> Path:
        return self.root / name

    def exists(self, sha256: str) -> bool:
        return (self.root / self.name_for(sha256)).exists()

    def writer(self, digests: tuple[str, ...] = DIGESTS) -> DigestingWriter:
        return DigestingWriter(self, digests)

    def store_bytes(self, data: bytes) -> StoredFile:
        with self.writer() as writer:
            writer.write(data)
            return writer.commit()

    def delete(self, name: str) -> None:
        try:
            os.unlink(self.root / name)
        except FileNotFoundError:
            pass

    def usage(self) -> dict[str, int]:
        total, used, free = shutil.disk_usage(self.root)
        return {"total": total, "used": used, "free": free}
