"""The Pulp 2 REST API (`/pulp/api/v2/`): its own front door over the same core as v3.

Decisions (seed 004 wins where it states a field; the rest follows Pulp 2.21):

- Documents: repositories, importers and distributors carry the seed's fields and `_ns`
  values (`gc_repositories`, `gc_repo_importers`, `gc_repo_distributors`; repository `_id` =
  its id, importer/distributor `_id` = a UUID string) plus the 2.21 fields the seed does not
  show (`_href`, `content_unit_counts`, `last_unit_added`, `last_unit_removed`, `scratchpad`,
  `last_updated`, `last_override_config`). Importer and distributor association answer 201
  synchronously. `PUT /repositories/<id>/` answers the repository (seed) merged with the 2.21
  call-report keys `result`/`error`/`spawned_tasks`, or a 202 call report when
  `distributor_configs` queued tasks. Request bodies with trailing commas (as in the seed's
  samples) are accepted.
- Core mapping: a v2 repository (models/pulp2.py) gets its core repository (`name` = v2 id)
  when the first importer or distributor names its kind: ostree types -> OstreeRepository,
  iso and harness types -> FileRepository (harness units are small generated files, so they
  are ordinary file content in v3). An empty repository may change kind; one with content
  may not (400). Importers keep their verbatim config and drive a core remote; distributors
  drive a core distribution at base path `pulp2/<ostree|iso>/<path>`, which
  `/pulp/ostree/web/<path>/` and `/pulp/isos/<path>/` serve. Publishing pins the distribution
  to the latest version (ostree) or to a new publication (iso), so content changes only on
  publish, as in Pulp 2.
- Units: `ostree` = one OstreeRef (branch + commit), `iso` = one FileContent; `_id` = the core
  content id. Criteria are evaluated with mongoquery over rendered records.
- Tasks: v2 task ids are core task ids; the v2 record (tags, task type, spawned tasks) lives
  in `pulp2_task`; a v2 result is stored as `{"v2": ...}` in the core task's result. Every v2
  task on a repository holds `pulp2:repository:<id>` and the core repository's href.
- harness_distributor writes below `<publish_dir>/<repo id>/`; `publish_dir` must lie under
  settings.publish_root (default /tmp), and a publish removes only files it wrote before.
"""
