"""The real pulp-cli with pulp-cli-ostree, unchanged, against our server."""

from __future__ import annotations

import json

from .support import LocalRepo, Puller, new_name, pull_and_check


def test_remote_create_update(pulp_cli):
    name = new_name("remote")
    remote = pulp_cli.json("ostree", "remote", "create", "--name", name, "--url", "http://127.0.0.1:9/repo/",
                           "--depth", "3", "--include-refs", json.dumps(["fedora/*", "stable"]),
                           "--exclude-refs", json.dumps(["*/debug"]), "--policy", "on_demand")
    assert (remote["depth"], remote["include_refs"], remote["exclude_refs"], remote["policy"]) == (
        3, ["fedora/*", "stable"], ["*/debug"], "on_demand")
    # (pulp-glue checks depth against the reference schema's minimum 0 before sending, so
    # depth -1 is only reachable through the REST API.)
    pulp_cli.run("ostree", "remote", "update", "--name", name, "--depth", "5", "--include-refs", '["rawhide"]',
                 "--exclude-refs", "[]")
    remote = pulp_cli.json("ostree", "remote", "show", "--name", name)
    assert (remote["depth"], remote["include_refs"], remote["exclude_refs"]) == (5, ["rawhide"], [])
    assert any(r["name"] == name for r in pulp_cli.json("ostree", "remote", "list"))
    pulp_cli.run("ostree", "remote", "destroy", "--name", name)
    assert pulp_cli.run("ostree", "remote", "show", "--name", name, check=False).returncode != 0


def test_import_modify_distribute(pulp_cli, server, tmp_path):
    local = LocalRepo.create(tmp_path / "src")
    first = local.commit("main", version="1")
    local.commit("extra")
    tar = local.tarball(tmp_path / "one.tar")
    name = new_name("repo")
    pulp_cli.run("ostree", "repository", "create", "--name", name)
    pulp_cli.run("ostree", "repository", "import-all", "--name", name, "--file", str(tar), "--repository_name", "repo")
    refs = pulp_cli.json("ostree", "repository", "ref", "list", "--repository", name)
    assert sorted(r["name"] for r in refs) == ["extra", "main"]
    commits = pulp_cli.json("ostree", "repository", "commit", "list", "--repository", name)
    assert len(commits) == 2
    assert len(pulp_cli.json("ostree", "repository", "config", "list", "--repository", name)) == 1

    # A child commit made elsewhere, imported with import-commits.
    child_repo = LocalRepo.create(tmp_path / "child")
    child = child_repo.commit("main", parent=first, version="2")
    pulp_cli.run("ostree", "repository", "import-commits", "--name", name, "--file",
                 str(child_repo.tarball(tmp_path / "child.tar")), "--repository_name", "repo", "--ref", "main")
    refs = {r["name"]: r for r in pulp_cli.json("ostree", "repository", "ref", "list", "--repository", name)}
    assert refs["main"]["checksum"] == child

    dist = new_name("dist")
    created = pulp_cli.json("ostree", "distribution", "create", "--name", dist, "--base-path", dist,
                            "--repository", name)
    url = f"{server.base_url}/pulp/content/{dist}/"
    assert created["base_url"].endswith(f"/pulp/content/{dist}/")
    pull_and_check(tmp_path, url, "main", [child, first])

    # Copy one ref into another repository with ref add, then remove it again.
    other = new_name("repo")
    pulp_cli.run("ostree", "repository", "create", "--name", other)
    pulp_cli.run("ostree", "repository", "ref", "add", "--repository", other, "--name", "extra",
                 "--checksum", refs["extra"]["checksum"])
    assert [r["name"] for r in pulp_cli.json("ostree", "repository", "ref", "list", "--repository", other)] == ["extra"]
    pulp_cli.run("ostree", "repository", "commit", "add", "--repository", other, "--checksum", first)
    assert len(pulp_cli.json("ostree", "repository", "commit", "list", "--repository", other)) == 2
    pulp_cli.run("ostree", "repository", "ref", "remove", "--repository", other, "--name", "extra",
                 "--checksum", refs["extra"]["checksum"])
    assert pulp_cli.json("ostree", "repository", "ref", "list", "--repository", other) == []

    # Pin the first distribution to version 1 (before import-commits): main is `first` again.
    pulp_cli.run("ostree", "distribution", "update", "--name", dist, "--repository", name, "--version", "1")
    shown = pulp_cli.json("ostree", "distribution", "show", "--name", dist)
    assert shown["repository_version"].endswith("/versions/1/") and shown["repository"] is None
    puller = Puller.create(tmp_path, url)
    assert puller.remote_refs() == ["extra", "main"]
    puller.pull("main")
    assert puller.log("main") == [first]
