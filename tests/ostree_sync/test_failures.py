"""A sync that meets a broken upstream fails clearly and leaves no version and no bad artifact."""

from __future__ import annotations

import hashlib

from tests.ostree_sync.support import REFS, corrupt_file


def _objects(path, suffix):
    return sorted((path / "objects").rglob(f"*.{suffix}"))


def _assert_no_new_version(api, repository):
    assert api.latest(repository)["number"] == 0


def test_corrupted_file_object_fails_naming_it(api, upstreams):
    path = upstreams.variant("corrupt")
    victim = max(_objects(path, "filez"), key=lambda p: p.stat().st_size)
    corrupt_file(victim)
    relative = str(victim.relative_to(path))
    repository = api.repository()
    task = api.sync(repository, api.remote(upstreams.url + "corrupt/", depth=-1))
    assert task["state"] == "failed"
    assert relative in task["error"]["description"]
    _assert_no_new_version(api, repository)
    bad = hashlib.sha256(victim.read_bytes()).hexdigest()
    assert api.get("artifacts/", sha256=bad)["count"] == 0


def test_corrupted_dirtree_fails_naming_it(api, upstreams):
    path = upstreams.variant("corrupt-tree")
    victim = _objects(path, "dirtree")[0]
    corrupt_file(victim)
    repository = api.repository()
    task = api.sync(repository, api.remote(upstreams.url + "corrupt-tree/", depth=-1))
    assert task["state"] == "failed"
    assert str(victim.relative_to(path)) in task["error"]["description"]
    _assert_no_new_version(api, repository)


def test_missing_object_fails_naming_it(api, upstreams):
    path = upstreams.variant("missing")
    victim = _objects(path, "filez")[0]
    victim.unlink()
    repository = api.repository()
    task = api.sync(repository, api.remote(upstreams.url + "missing/", depth=-1, max_retries=0))
    assert task["state"] == "failed"
    assert str(victim.relative_to(path)) in task["error"]["description"]
    _assert_no_new_version(api, repository)


def test_upstream_without_config_is_a_clear_error(api, upstreams):
    path = upstreams.variant("no-config")
    (path / "config").unlink()
    repository = api.repository()
    task = api.sync(repository, api.remote(upstreams.url + "no-config/"))
    assert task["state"] == "failed"
    assert "has no config file" in task["error"]["description"]
    _assert_no_new_version(api, repository)


def test_missing_head_commit_fails(api, upstreams):
    path = upstreams.variant("no-head")
    head = upstreams.good.head(REFS[0])
    (path / "objects" / head[:2] / f"{head[2:]}.commit").unlink()
    repository = api.repository()
    task = api.sync(repository, api.remote(upstreams.url + "no-head/", max_retries=0))
    assert task["state"] == "failed"
    assert head[2:] in task["error"]["description"]
    _assert_no_new_version(api, repository)


def test_canceled_sync_leaves_no_version_and_no_temp_files(api, upstreams):
    import time

    from tests.ostree_sync.support import build_upstream, serve_directory

    build_upstream(upstreams.root / "slow", salt="slow upstream")
    with serve_directory(upstreams.root / "slow", delay=0.3) as url:
        repository = api.repository()
        remote = api.remote(url, depth=-1)
        task = api.post(repository["pulp_href"] + "sync/", remote=remote["pulp_href"])
        deadline = time.monotonic() + 30
        while api.get(task["task"])["state"] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        response = api.client.patch(task["task"], json={"state": "canceled"})
        assert response.status_code in (200, 202), response.text
        final = api.server.wait_task(task["task"])
    assert final["state"] == "canceled"
    _assert_no_new_version(api, repository)
    temp = api.server.data_dir / "media" / "tmp"
    assert not temp.exists() or not any(temp.iterdir())
