"""OSTree sync end to end: a real upstream over HTTP, the REST API, a real `ostree pull`."""

from __future__ import annotations

import time

from tests.content.conftest import run_db
from tests.ostree_sync.support import REFS, build_upstream, ostree, pull_mirror

STABLE, RAWHIDE = REFS


def test_sync_whole_history_serves_a_pullable_repository(api, upstreams, tmp_path):
    repository = api.repository()
    remote = api.remote(upstreams.url + "good/", depth=-1)
    task = api.sync(repository, remote)
    assert task["state"] == "completed", task["error"]
    assert task["name"] == "pulp_ostree.app.tasks.synchronizing.synchronize"
    codes = {report["code"]: report for report in task["progress_reports"]}
    assert {"sync.downloading.metadata", "sync.downloading.artifacts", "associating.content"} <= set(codes)
    objects = codes["sync.downloading.artifacts"]
    assert objects["done"] == objects["total"] > 0
    assert all(report["state"] == "completed" for report in task["progress_reports"])
    version = api.latest(repository)
    assert task["created_resources"] == [version["pulp_href"]]
    counts = api.counts(version)
    assert counts["ostree.commit"] == 6 and counts["ostree.refs"] == 2
    assert counts["ostree.config"] == 1 and counts["ostree.summary"] == 1
    assert counts["ostree.object"] > 20

    url = api.distribute(repository)
    for ref in REFS:
        assert pull_mirror(url, ref, tmp_path / "all", depth=-1) == upstreams.good.history[ref]
        assert pull_mirror(url, ref, tmp_path / "head", depth=0) == upstreams.good.history[ref][:1]
    refs = ostree("remote", "refs", f"--repo={tmp_path / 'head'}", "up").split()
    assert sorted(refs) == sorted(f"up:{ref}" for ref in REFS)

    # An unchanged upstream: nothing new to download, no new version, quickly.
    started = time.monotonic()
    again = api.sync(repository, remote)
    assert again["state"] == "completed", again["error"]
    assert again["created_resources"] == []
    assert api.latest(repository)["number"] == version["number"]
    assert time.monotonic() - started < 10
    report = {r["code"]: r for r in again["progress_reports"]}["sync.downloading.artifacts"]
    assert report["done"] == 0


def test_depth_selects_head_plus_parents(api, upstreams, tmp_path):
    url = upstreams.url + "good/"
    for depth, expected in ((0, 1), (1, 2)):
        repository = api.repository()
        task = api.sync(repository, api.remote(url, depth=depth))
        assert task["state"] == "completed", task["error"]
        assert api.counts(api.latest(repository))["ostree.commit"] == 2 * expected
        served = api.distribute(repository)
        for ref in REFS:
            # A client asking for the whole history gets exactly what the version holds.
            commits = pull_mirror(served, ref, tmp_path / f"d{depth}", depth=-1)
            assert commits == upstreams.good.history[ref][:expected]


def test_include_and_exclude_refs(api, upstreams, tmp_path):
    url = upstreams.url + "good/"
    repository = api.repository()
    task = api.sync(repository, api.remote(url, include_refs=["fedora/*"], exclude_refs=[]))
    assert task["state"] == "completed", task["error"]
    refs = api.get("content/ostree/refs/", repository_version=api.latest(repository)["pulp_href"])
    assert [ref["name"] for ref in refs["results"]] == [STABLE]
    served = api.distribute(repository)
    assert pull_mirror(served, STABLE, tmp_path / "stable") == upstreams.good.history[STABLE][:1]

    repository = api.repository()
    task = api.sync(repository, api.remote(url, include_refs=[], exclude_refs=["*"]))
    assert task["state"] == "completed", task["error"]
    counts = api.counts(api.latest(repository))
    assert "ostree.refs" not in counts and "ostree.commit" not in counts
    assert counts["ostree.config"] == 1


def test_mirror_drops_a_ref_deleted_upstream_additive_keeps_it(api, upstreams, tmp_path):
    path = upstreams.variant("shrinking")
    url = upstreams.url + "shrinking/"
    additive, mirrored = api.repository(), api.repository()
    remote = api.remote(url, depth=-1)
    for repository in (additive, mirrored):
        assert api.sync(repository, remote)["state"] == "completed"
    ostree("refs", f"--repo={path}", "--delete", RAWHIDE)
    ostree("summary", f"--repo={path}", "-u")

    task = api.sync(mirrored, remote, mirror=True)
    assert task["state"] == "completed", task["error"]
    version = api.latest(mirrored)
    removed = api.counts(version, "removed")
    assert removed["ostree.refs"] == 1 and removed["ostree.commit"] == 3
    present = api.counts(version)
    assert present["ostree.refs"] == 1 and present["ostree.commit"] == 3
    served = api.distribute(mirrored)
    assert pull_mirror(served, STABLE, tmp_path / "m", depth=-1) == upstreams.good.history[STABLE]
    refs = ostree("remote", "refs", f"--repo={tmp_path / 'm'}", "up").split()
    assert refs == [f"up:{STABLE}"]

    task = api.sync(additive, remote)
    assert task["state"] == "completed", task["error"]
    assert task["created_resources"] == []
    assert api.counts(api.latest(additive))["ostree.refs"] == 2


def test_new_upstream_commit_downloads_only_what_changed(api, upstreams, tmp_path):
    path = upstreams.variant("growing")
    remote = api.remote(upstreams.url + "growing/", depth=-1)
    repository = api.repository()
    first = api.sync(repository, remote)
    assert first["state"] == "completed", first["error"]
    tree = tmp_path / "tree"
    ostree("checkout", f"--repo={path}", "-U", STABLE, tree)
    (tree / "etc/brand-new").write_text("one new file\n")
    ostree("commit", f"--repo={path}", f"--branch={STABLE}", "--subject=v4", tree)
    ostree("summary", f"--repo={path}", "-u")

    task = api.sync(repository, remote)
    assert task["state"] == "completed", task["error"]
    downloaded = {r["code"]: r for r in task["progress_reports"]}["sync.downloading.artifacts"]["done"]
    # The new file plus at most the changed directories' metadata; nothing else again.
    assert 1 <= downloaded <= 3
    added = api.counts(api.latest(repository), "added")
    assert added["ostree.commit"] == 1 and added["ostree.refs"] == 1
    served = api.distribute(repository)
    commits = pull_mirror(served, STABLE, tmp_path / "pulled", depth=-1)
    assert len(commits) == 4 and commits[1:] == upstreams.good.history[STABLE]


def test_upstream_without_summary_syncs_refs_named_in_include_refs(api, upstreams, tmp_path):
    path = upstreams.variant("no-summary")
    (path / "summary").unlink()
    url = upstreams.url + "no-summary/"
    repository = api.repository()
    task = api.sync(repository, api.remote(url, include_refs=[RAWHIDE]))
    assert task["state"] == "completed", task["error"]
    served = api.distribute(repository)
    assert pull_mirror(served, RAWHIDE, tmp_path / "r") == upstreams.good.history[RAWHIDE][:1]

    task = api.sync(api.repository(), api.remote(url))
    assert task["state"] == "failed"
    assert "no summary" in task["error"]["description"]


def test_on_demand_stores_metadata_and_serves_files_through_the_content_app(api, upstreams, tmp_path):
    from tests.ostree_sync.support import build_upstream

    fresh = build_upstream(upstreams.root / "on-demand", salt="on-demand only")
    repository = api.repository()
    task = api.sync(repository, api.remote(upstreams.url + "on-demand/", policy="on_demand", depth=-1))
    assert task["state"] == "completed", task["error"]
    version = api.latest(repository)
    assert api.counts(version)["ostree.commit"] == 6
    objects = api.get("content/ostree/objects/", repository_version=version["pulp_href"], limit=1000)["results"]
    files = [o for o in objects if o["typ"] == 1]
    trees = [o for o in objects if o["typ"] in (2, 3)]
    # Files only this upstream has are not downloaded (empty files etc. may be shared).
    assert sum(o["artifact"] is None for o in files) >= 6
    assert trees and all(o["artifact"] is not None for o in trees)
    served = api.distribute(repository)
    for ref in REFS:
        assert pull_mirror(served, ref, tmp_path / "od", depth=-1) == fresh.history[ref]


def test_http10_upstream_without_keepalive_still_syncs(api, upstreams, tmp_path):
    from tests.ostree_sync.support import serve_directory

    with serve_directory(upstreams.good.path, protocol="HTTP/1.0") as url:
        repository = api.repository()
        task = api.sync(repository, api.remote(url))
        assert task["state"] == "completed", task["error"]
    served = api.distribute(repository)
    assert pull_mirror(served, RAWHIDE, tmp_path / "p") == upstreams.good.history[RAWHIDE][:1]


def test_upstream_static_deltas_are_synced_and_served(api, upstreams, tmp_path):
    import hashlib

    import httpx

    path = upstreams.variant("with-deltas")
    ostree("static-delta", "generate", f"--repo={path}", RAWHIDE)
    ostree("summary", f"--repo={path}", "-u")
    superblocks = list((path / "deltas").rglob("superblock"))
    assert len(superblocks) == 1
    repository = api.repository(compute_delta=False)
    task = api.sync(repository, api.remote(upstreams.url + "with-deltas/", depth=1, include_refs=[RAWHIDE]))
    assert task["state"] == "completed", task["error"]
    content = api.get("content/ostree/content/", repository_version=api.latest(repository)["pulp_href"])
    paths = {unit["relative_path"] for unit in content["results"]}
    expected = {str(p.relative_to(path)) for p in (path / "deltas").rglob("*") if p.is_file()}
    assert expected <= paths
    served = api.distribute(repository)
    superblock = str(superblocks[0].relative_to(path))
    body = httpx.get(served + superblock).content
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(superblocks[0].read_bytes()).hexdigest()
    # A non-archive client pull may use the delta; either way it must succeed.
    target = tmp_path / "bare"
    ostree("init", f"--repo={target}", "--mode=bare-user")
    ostree("remote", "add", f"--repo={target}", "--no-gpg-verify", "up", served)
    ostree("pull", f"--repo={target}", "up", RAWHIDE)
    ostree("fsck", f"--repo={target}")


def _commit_object_links(server, checksums: list[str]) -> tuple[int, int]:
    """(links of the commits with these checksums, links naming a commit or object that is gone)."""
    from sqlalchemy import exists, func, select

    from pulpwood_ostree.models import OstreeCommit, OstreeCommitObject, OstreeObject

    link = OstreeCommitObject

    async def count(runtime):
        async with runtime.write_session() as session:
            own = await session.scalar(select(func.count()).select_from(link).join(
                OstreeCommit, OstreeCommit.pulp_id == link.commit_id).where(OstreeCommit.checksum.in_(checksums)))
            dangling = await session.scalar(select(func.count()).select_from(link).where(
                ~exists().where(OstreeCommit.pulp_id == link.commit_id)
                | ~exists().where(OstreeObject.pulp_id == link.obj_id)))
            return own, dangling

    return run_db(server, count)


def test_orphan_cleanup_of_a_deleted_repository_leaves_no_commit_links_and_it_syncs_again(api, upstreams, tmp_path):
    upstream = build_upstream(upstreams.root / "orphans", commits_per_ref=2, salt="orphans")
    checksums = [c for history in upstream.history.values() for c in history]
    url = upstreams.url + "orphans/"
    repository = api.repository()
    assert api.sync(repository, api.remote(url, depth=-1))["state"] == "completed"
    own, dangling = _commit_object_links(api.server, checksums)
    assert own > 0 and dangling == 0

    deleted = api.client.delete(repository["pulp_href"])
    assert deleted.status_code == 202, deleted.text
    assert api.server.wait_task(deleted.json()["task"])["state"] == "completed"
    cleanup = api.post("orphans/cleanup/", orphan_protection_time=0)
    assert api.server.wait_task(cleanup["task"])["state"] == "completed"
    assert _commit_object_links(api.server, checksums) == (0, 0)

    again = api.repository()
    task = api.sync(again, api.remote(url, depth=-1))
    assert task["state"] == "completed", task["error"]
    served = api.distribute(again)
    for ref in REFS:
        assert pull_mirror(served, ref, tmp_path / "again", depth=-1) == upstream.history[ref]
