"""How v2 records map onto core objects: the repository of the right kind, the remote an
importer configures, the distribution a distributor serves through.

Choice (documented in the module of the models too): the core repository is created when the
first importer or distributor tells its kind — ostree types make an OstreeRepository, iso and
harness types a FileRepository (harness units are small generated files). A repository that
changes kind while it is still empty gets a fresh core repository of the new kind; one with
content refuses the change (400).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pulpwood.api.v2.errors import InvalidValue, MissingResource, PulpDataException
from pulpwood.api.v2.plugin_types import DISTRIBUTORS, IMPORTERS, PATH_KEYS, as_bool
from pulpwood.db.base import utcnow
from pulpwood.models import Distribution, Remote, Repository, RepositoryVersion
from pulpwood.models.pulp2 import V2Distributor, V2Importer, V2Repository
from pulpwood.queries.versions import latest_version
from pulpwood.services.versions import create_repository

# core pulp_type of content -> v2 unit type counted for the repository (None: not a v2 unit).
COUNTED = {"ostree.refs": "ostree", "file.file": None}


def repository_model(kind: str):
    if kind == "ostree":
        from pulpwood_ostree.models import OstreeRepository
        return OstreeRepository
    from pulpwood_file.models import FileRepository
    return FileRepository


def remote_model(kind: str):
    if kind == "ostree":
        from pulpwood_ostree.models import OstreeRemote
        return OstreeRemote
    from pulpwood_file.models import FileRemote
    return FileRemote


def distribution_model(kind: str):
    if kind == "ostree":
        from pulpwood_ostree.models import OstreeDistribution
        return OstreeDistribution
    from pulpwood_file.models import FileDistribution
    return FileDistribution


def kind_of(repository: Repository | None) -> str | None:
    if repository is None:
        return None
    return "ostree" if repository.pulp_type.startswith("ostree") else "file"


async def get_repo(session: AsyncSession, repo_id: str) -> V2Repository:
    repo = await session.scalar(select(V2Repository).where(V2Repository.repo_id == repo_id))
    if repo is None:
        raise MissingResource(repository=repo_id)
    return repo


async def get_importer(session: AsyncSession, repo: V2Repository) -> V2Importer | None:
    return await session.scalar(select(V2Importer).where(V2Importer.repo_pk == repo.pulp_id))


async def get_distributors(session: AsyncSession, repo: V2Repository) -> list[V2Distributor]:
    return list(await session.scalars(select(V2Distributor).where(V2Distributor.repo_pk == repo.pulp_id)
                                      .order_by(V2Distributor.pulp_id)))


async def get_distributor(session: AsyncSession, repo: V2Repository, dist_id: str) -> V2Distributor:
    dist = await session.scalar(select(V2Distributor).where(V2Distributor.repo_pk == repo.pulp_id,
                                                            V2Distributor.distributor_id == dist_id))
    if dist is None:
        raise MissingResource(repo_id=repo.repo_id, distributor_id=dist_id)
    return dist


async def core_repository(session: AsyncSession, repo: V2Repository) -> Repository | None:
    if repo.repository_id is None:
        return None
    return await session.get(Repository, repo.repository_id)


async def ensure_core(session: AsyncSession, repo: V2Repository, kind: str, unit_type: str,
                      field_name: str) -> Repository:
    """The repository's core repository, made (or remade while empty) for `kind`."""
    current = await core_repository(session, repo)
    if current is not None and kind_of(current) == kind:
        if repo.unit_type != unit_type and await _is_empty(session, current):
            repo.unit_type = unit_type
        return current
    if current is not None:
        importer = await get_importer(session, repo)
        others = [IMPORTERS[importer.importer_type_id].kind] if importer is not None else []
        others += [DISTRIBUTORS[d.distributor_type_id].kind for d in await get_distributors(session, repo)]
        if any(other != kind for other in others):
            raise InvalidValue([field_name], message=(
                f"Repository {repo.repo_id} has plugins for {repo.unit_type} content; "
                f"a type for {unit_type} content cannot join them."))
        if not await _is_empty(session, current):
            raise InvalidValue([field_name], message=(
                f"Repository {repo.repo_id} already holds {repo.unit_type} content; "
                f"it cannot take a type for {unit_type} content."))
        for dist in await get_distributors(session, repo):
            await detach_distribution(session, dist)
        importer = await get_importer(session, repo)
        if importer is not None:
            await detach_remote(session, importer)
        repo.repository_id = None
        await session.delete(current)
        await session.flush()
    clash = await session.scalar(select(Repository.pulp_id).where(Repository.name == repo.repo_id))
    if clash is not None:
        raise InvalidValue([field_name], message=f"A repository named {repo.repo_id} already exists in the core.")
    core = await create_repository(session, repository_model(kind)(name=repo.repo_id,
                                                                    description=repo.description))
    repo.repository_id = core.pulp_id
    repo.unit_type = unit_type
    await session.flush()
    return core


async def _is_empty(session: AsyncSession, repository: Repository) -> bool:
    count = await session.scalar(select(func.count()).select_from(RepositoryVersion)
                                 .where(RepositoryVersion.repository_id == repository.pulp_id))
    return (count or 0) <= 1


def remote_values(type_id: str, config: dict) -> dict:
    """Importer config keys -> core remote fields."""
    feed = config.get("feed") or ""
    values: dict = {"url": feed}
    if type_id == "iso_importer" and feed and not feed.endswith("PULP_MANIFEST"):
        values["url"] = feed.rstrip("/") + "/PULP_MANIFEST"
    default_tls = type_id != "ostree_web_importer"
    values["tls_validation"] = as_bool(config.get("ssl_validation"), default_tls)
    values["ca_cert"] = config.get("ssl_ca_cert")
    values["client_cert"] = config.get("ssl_client_cert")
    values["client_key"] = config.get("ssl_client_key")
    proxy = config.get("proxy_host")
    if proxy:
        if "://" not in proxy:
            proxy = "http://" + proxy
        if config.get("proxy_port") and not urlsplit(proxy).port:
            proxy = f"{proxy.rstrip('/')}:{int(config['proxy_port'])}"
    values["proxy_url"] = proxy or None
    values["proxy_username"] = config.get("proxy_username")
    values["proxy_password"] = config.get("proxy_password")
    values["username"] = config.get("basic_auth_username")
    values["password"] = config.get("basic_auth_password")
    values["download_concurrency"] = int(config["max_downloads"]) if config.get("max_downloads") else None
    values["policy"] = "on_demand" if config.get("download_policy") == "on_demand" else "immediate"
    if type_id == "ostree_web_importer":
        values["depth"] = int(config.get("depth") or 0)
        branches = config.get("branches")
        # [] means "no branch": a pattern no ref name can match (ref names have no spaces).
        values["include_refs"] = None if branches is None else (list(branches) or ["pulp2 no branches"])
    return values


async def attach_remote(session: AsyncSession, repo: V2Repository, importer: V2Importer) -> None:
    """Create or update the core remote that mirrors the importer's config."""
    itype = IMPORTERS[importer.importer_type_id]
    if itype.id == "harness_importer":
        return
    values = remote_values(itype.id, importer.config)
    remote = await session.get(Remote, importer.remote_id) if importer.remote_id else None
    if remote is None:
        model = remote_model(itype.kind)
        name = f"pulp2-{repo.repo_id}-{itype.id}"
        old = await session.scalar(select(Remote).where(Remote.name == name))
        if old is not None:
            await session.delete(old)
            await session.flush()
        remote = model(name=name, **values)
        session.add(remote)
        await session.flush()
        importer.remote_id = remote.pulp_id
    else:
        for key, value in values.items():
            setattr(remote, key, value)
        remote.pulp_last_updated = utcnow()
    core = await core_repository(session, repo)
    if core is not None:
        core.remote_id = remote.pulp_id


async def detach_remote(session: AsyncSession, importer: V2Importer) -> None:
    if importer.remote_id is not None:
        remote = await session.get(Remote, importer.remote_id)
        importer.remote_id = None
        if remote is not None:
            await session.delete(remote)
            await session.flush()


def served_path(dist: V2Distributor, repo_id: str) -> str | None:
    key = PATH_KEYS.get(dist.distributor_type_id)
    if key is None:
        return None
    return str(dist.config.get(key) or repo_id).strip("/")


async def other_paths(session: AsyncSession, repo: V2Repository, type_id: str) -> list[tuple[str, str]]:
    """(repo id, served path) of every other repository's distributor of the same type."""
    rows = await session.execute(select(V2Distributor, V2Repository.repo_id)
                                 .join(V2Repository, V2Repository.pulp_id == V2Distributor.repo_pk)
                                 .where(V2Distributor.distributor_type_id == type_id,
                                        V2Distributor.repo_pk != repo.pulp_id))
    return [(repo_id, served_path(dist, repo_id)) for dist, repo_id in rows.all()]


async def attach_distribution(session: AsyncSession, repo: V2Repository, dist: V2Distributor) -> None:
    """Create or move the core distribution that serves what the distributor publishes."""
    dtype = DISTRIBUTORS[dist.distributor_type_id]
    path = served_path(dist, repo.repo_id)
    if path is None:
        return
    base_path = f"pulp2/{dtype.id.split('_')[0]}/{path}"
    existing = await session.get(Distribution, dist.distribution_id) if dist.distribution_id else None
    clash = await session.scalar(select(Distribution.pulp_id).where(Distribution.base_path == base_path))
    if clash is not None and (existing is None or clash != existing.pulp_id):
        raise PulpDataException(f"The path {path} is already served by another distribution.")
    if existing is not None:
        existing.base_path = base_path
        return
    name = f"pulp2-{repo.repo_id}-{dist.distributor_id}"
    old = await session.scalar(select(Distribution).where(Distribution.name == name))
    if old is not None:
        await session.delete(old)
        await session.flush()
    distribution = distribution_model(dtype.kind)(name=name, base_path=base_path)
    session.add(distribution)
    await session.flush()
    dist.distribution_id = distribution.pulp_id


async def detach_distribution(session: AsyncSession, dist: V2Distributor) -> None:
    if dist.distribution_id is not None:
        distribution = await session.get(Distribution, dist.distribution_id)
        dist.distribution_id = None
        if distribution is not None:
            await session.delete(distribution)
            await session.flush()


async def unit_counts(session: AsyncSession, repo: V2Repository) -> dict[str, int]:
    if repo.repository_id is None:
        return {}
    latest = await latest_version(session, repo.repository_id)
    if latest is None:
        return {}
    present = (latest.content_counts or {}).get("present", {})
    if repo.unit_type == "ostree":
        count = present.get("ostree.refs", 0)
    else:
        count = present.get("file.file", 0)
    return {repo.unit_type: count} if count else {}


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()
