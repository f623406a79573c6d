"""Helpers for the ostree plugin tests: fixture repositories made by the real `ostree` CLI,
tarballs of them, uploads, and an `ostree` client pulling from our distributions."""

from __future__ import annotations

import os
import subprocess
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def ostree(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ostree", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"ostree {' '.join(args)} failed: {result.stderr}")
    return result


def write_tree(root: Path, variant: int) -> None:
    """A small tree with subdirectories, a symlink, an executable and empty files."""
    (root / "usr" / "bin").mkdir(parents=True, exist_ok=True)
    (root / "etc").mkdir(exist_ok=True)
    tool = root / "usr" / "bin" / "tool"
    tool.write_text(f"#!/bin/sh\necho tool {variant}\n")
    tool.chmod(0o755)
    (root / "etc" / "empty.conf").write_bytes(b"")
    (root / "etc" / f"release-{variant}").write_text(f"release {variant}\n" * (variant * 50))
    (root / "usr" / "data.bin").write_bytes(bytes(range(256)) * (4 + variant))
    link = root / "usr" / "bin" / "alias"
    if link.is_symlink():
        link.unlink()
    link.symlink_to("tool")
    (root / "fake.img").write_bytes(b"")
    try:  # xattrs travel in file headers and dirmeta, where the filesystem allows them
        os.setxattr(root / "usr" / "data.bin", "user.pulpwood", f"v{variant}".encode())
    except OSError:
        pass


@dataclass
class LocalRepo:
    """An archive-mode repository made with the `ostree` CLI, and its commits per ref."""

    path: Path
    work: Path
    history: dict[str, list[str]] = field(default_factory=dict)  # ref -> commits, oldest first
    counter: int = 0

    @classmethod
    def create(cls, base: Path, name: str = "repo") -> LocalRepo:
        base.mkdir(parents=True, exist_ok=True)
        repo = cls(path=base / name, work=base / f"{name}-trees")
        ostree("init", f"--repo={repo.path}", "--mode=archive")
        repo.work.mkdir()
        return repo

    def commit(self, ref: str, variant: int | None = None, parent: str | None = None, version: str | None = None) -> str:
        self.counter += 1
        tree = self.work / f"t{self.counter}"
        tree.mkdir()
        write_tree(tree, variant if variant is not None else self.counter)
        args = ["commit", f"--repo={self.path}", f"--branch={ref}", f"--tree=dir={tree}",
                f"--subject=commit {self.counter}", f"--timestamp=@{1_700_000_000 + self.counter * 100}"]
        if parent:
            args.append(f"--parent={parent}")
        if version:
            args.append(f"--add-metadata-string=version={version}")
        checksum = ostree(*args).stdout.strip()
        self.history.setdefault(ref, []).append(checksum)
        return checksum

    def tarball(self, dest: Path, compression: str = "gz") -> Path:
        mode = "w" if compression == "" else f"w:{compression}"
        with tarfile.open(dest, mode) as tar:
            tar.add(self.path, arcname=self.path.name)
        return dest


def upload_artifact(client, path: Path) -> str:
    with open(path, "rb") as handle:
        response = client.post("/pulp/api/v3/artifacts/", files={"file": (path.name, handle)})
    if response.status_code == 400 and "already exists" in response.text:
        import hashlib

        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        return client.get("/pulp/api/v3/artifacts/", params={"sha256": sha}).json()["results"][0]["pulp_href"]
    assert response.status_code == 201, response.text
    return response.json()["pulp_href"]


def run_task(server, client, response) -> dict:
    assert response.status_code == 202, response.text
    return server.wait_task(response.json()["task"])


def completed(server, client, response) -> dict:
    task = run_task(server, client, response)
    assert task["state"] == "completed", task.get("error")
    return task


def new_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def distribute(server, client, *, repository: str | None = None, version: str | None = None) -> str:
    """A distribution serving `repository` (latest) or `version`; its content URL."""
    base_path = new_name("ostree")
    body = {"name": base_path, "base_path": base_path}
    if repository:
        body["repository"] = repository
    if version:
        body["repository_version"] = version
    completed(server, client, client.post("/pulp/api/v3/distributions/ostree/ostree/", json=body))
    return f"{server.base_url}/pulp/content/{base_path}/"


@dataclass
class Puller:
    """An `ostree` client repository pulling from a URL."""

    path: Path

    @classmethod
    def create(cls, base: Path, url: str) -> Puller:
        path = base / new_name("client")
        ostree("init", f"--repo={path}", "--mode=archive")
        ostree("remote", "add", f"--repo={path}", "--no-gpg-verify", "r", url)
        return cls(path)

    def pull(self, ref: str, depth: int = -1, mirror: bool = True) -> subprocess.CompletedProcess:
        args = ["pull", f"--repo={self.path}", f"--depth={depth}"]
        if mirror:
            args.append("--mirror")
        return ostree(*args, "r", ref)

    def fsck(self) -> None:
        ostree("fsck", f"--repo={self.path}")

    def log(self, ref: str) -> list[str]:
        """Commit checksums `ostree log` shows for the pulled ref (newest first)."""
        name = ref if self._has_local(ref) else f"r:{ref}"
        out = ostree("log", f"--repo={self.path}", name).stdout
        return [line.split()[1] for line in out.splitlines() if line.startswith("commit ")]

    def _has_local(self, ref: str) -> bool:
        return (self.path / "refs" / "heads" / ref).exists()

    def remote_refs(self) -> list[str]:
        out = ostree("remote", "refs", f"--repo={self.path}", "r").stdout
        return sorted(line.split(":", 1)[1] for line in out.split())

    def remote_summary(self) -> str:
        return ostree("remote", "summary", f"--repo={self.path}", "r").stdout


def pull_and_check(tmp: Path, url: str, ref: str, expected: list[str], depth: int = -1) -> Puller:
    """Pull `ref` from `url`, fsck, and compare `ostree log` with `expected` (newest first)."""
    puller = Puller.create(tmp, url)
    puller.pull(ref, depth=depth)
    puller.fsck()
    assert puller.log(ref) == expected
    return puller


def wait_for(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached")


__all__ = ["LocalRepo", "Puller", "completed", "distribute", "ostree", "os", "pull_and_check", "upload_artifact"]
