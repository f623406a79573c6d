"""The OSTree benchmark's fixture: an archive repository built with the ostree CLI, with
many files of mixed sizes (some incompressible), 2 refs and 5 commits with changes, cached
under /tmp between runs (bench_ostree_sync.py)."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

MAIN, DEVEL = "bench/main", "bench/devel"


def ostree(*args) -> str:
    result = subprocess.run(["ostree", *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"ostree {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout


def _sizes(rng: random.Random, count: int, total: int) -> list[int]:
    raw = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.03:
            raw.append(0)
        elif roll < 0.85:
            raw.append(rng.randint(64, 8 * 1024))
        elif roll < 0.99:
            raw.append(rng.randint(16 * 1024, 96 * 1024))
        else:
            raw.append(rng.randint(256 * 1024, 3 * 1024 * 1024))
    scale = total / max(sum(raw), 1)
    return [int(size * scale) for size in raw]


def _write(path: Path, size: int, rng: random.Random) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Half random (incompressible), half repetitive: like real trees, some compress well.
    half = size // 2
    path.write_bytes(rng.randbytes(half) + bytes([rng.randrange(256)]) * (size - half))


def build_fixture(repo: Path, files: int, megabytes: int) -> None:
    marker = repo / ".complete"
    if marker.exists():
        return
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    ostree("init", f"--repo={repo}", "--mode=archive")
    tree = repo.parent / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(4242)
    sizes = _sizes(rng, files, megabytes * 1024 * 1024)
    paths = [tree / f"usr/lib/d{i // 1500:02d}/s{(i // 60) % 25:02d}/f{i:06d}.bin" for i in range(files)]
    print(f"building fixture: {files} files, {sum(sizes) / 1e6:.0f} MB ...", flush=True)
    for index, (path, size) in enumerate(zip(paths, sizes)):
        _write(path, size, rng)
        if index % 97 == 0:
            path.chmod(0o755)
    (tree / "etc").mkdir(parents=True, exist_ok=True)
    for index in range(50):
        (tree / f"etc/link{index}").symlink_to(f"../usr/lib/d00/s00/f{index:06d}.bin")

    def change(fraction: float, seed: int) -> None:
        local = random.Random(seed)
        for path in local.sample(paths, int(len(paths) * fraction)):
            _write(path, local.randint(64, 32 * 1024), local)
        for index in range(100):
            _write(tree / f"usr/share/new{seed}/n{index}.txt", local.randint(10, 4096), local)

    def commit(ref: str, number: int) -> None:
        ostree("commit", f"--repo={repo}", f"--branch={ref}", f"--subject=commit {number}",
               f"--add-metadata-string=version={number}", f"--timestamp=@{1_700_000_000 + number * 3600}", tree)
        print(f"  commit {number} on {ref}", flush=True)

    commit(MAIN, 1)
    change(0.02, 2)
    commit(MAIN, 2)
    change(0.02, 3)
    commit(MAIN, 3)
    change(0.01, 4)
    commit(DEVEL, 4)
    change(0.01, 5)
    commit(DEVEL, 5)
    ostree("summary", f"--repo={repo}", "-u")
    shutil.rmtree(tree)
    marker.write_text("ok\n")
