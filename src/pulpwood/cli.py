"""Command line: `pulpwood serve|api|content|worker|migrate|admin`.

Settings are built once here, from the environment, and passed down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading

import click

from pulpwood.errors import ConfigurationError
from pulpwood.settings import Settings, load_settings

DEFAULT_BIND = "127.0.0.1:24817"


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


def _split_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise click.BadParameter(f"expected HOST:PORT, got {bind!r}") from None


def _migrate(settings: Settings) -> None:
    from pulpwood.db.migrate import upgrade

    upgrade(settings)


def _ensure_admin(settings: Settings) -> None:
    from pulpwood.runtime import build_runtime
    from pulpwood.services.users import ensure_admin

    async def run() -> str | None:
        runtime = build_runtime(settings)
        try:
            async with runtime.write_session() as session:
                async with session.begin():
                    return await ensure_admin(session, settings.admin_password)
        finally:
            await runtime.close()

    generated = asyncio.run(run())
    if generated:
        click.echo(f"Created user 'admin' with password: {generated}  (shown once; change it with "
                   "`pulpwood admin set-password admin`)")


def _run_http(settings: Settings, bind: str, *, api: bool, content: bool) -> None:
    from pulpwood.asgi_server import run
    from pulpwood.runtime import build_runtime
    from pulpwood.server import create_app

    host, port = _split_bind(bind)
    app = create_app(build_runtime(settings), serve_api=api, serve_content=content)
    run(app, host, port, log_level=os.environ.get("PULPWOOD_LOG_LEVEL", "warning"))


@click.group()
def main() -> None:
    """pulpwood: a content repository manager that speaks the Pulp API."""
    logging.basicConfig(level=os.environ.get("PULPWOOD_LOG_LEVEL", "WARNING").upper())


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    _migrate(_settings())
    click.echo("Database is up to date.")


@main.command()
@click.option("--bind", default=DEFAULT_BIND, show_default=True, help="HOST:PORT of the API and content app.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(0), help="Worker processes.")
def serve(bind: str, workers: int) -> None:
    """API + content app in one server, plus worker processes."""
    settings = _settings()
    _migrate(settings)
    _ensure_admin(settings)
    def spawn() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "pulpwood", "worker"])

    children = [spawn() for _ in range(workers)]
    stopping = threading.Event()

    def supervise() -> None:
        # A worker that dies (OOM killer, SIGKILL) is replaced, so the queue never stalls;
        # its task was failed and its locks freed by the heartbeat reaper.
        while not stopping.wait(1.0):
            for index, child in enumerate(children):
                if child.poll() is not None and not stopping.is_set():
                    click.echo(f"worker {child.pid} exited with {child.returncode}; starting a new one", err=True)
                    children[index] = spawn()

    def stop_children(*_args) -> None:
        stopping.set()
        for child in children:
            if child.poll() is None:
                child.terminate()

    threading.Thread(target=supervise, daemon=True).start()

    signal.signal(signal.SIGTERM, lambda *a: (stop_children(), sys.exit(0)))
    click.echo(f"pulpwood serving on http://{bind} with {workers} worker(s)")
    try:
        _run_http(settings, bind, api=True, content=True)
    finally:
        stop_children()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


@main.command()
@click.option("--bind", default=DEFAULT_BIND, show_default=True)
def api(bind: str) -> None:
    """The REST API only."""
    _run_http(_settings(), bind, api=True, content=False)


@main.command()
@click.option("--bind", default="127.0.0.1:24816", show_default=True)
def content(bind: str) -> None:
    """The content app only."""
    _run_http(_settings(), bind, api=False, content=True)


@main.command()
def worker() -> None:
    """One task worker."""
    from pulpwood.server import load_task_functions
    from pulpwood.worker.allocator import bound_retained_memory
    from pulpwood.worker.collector import tune_collector
    from pulpwood.worker.loop import run_worker

    bound_retained_memory()
    load_task_functions()
    tune_collector()
    asyncio.run(run_worker(_settings()))


@main.group()
def admin() -> None:
    """Users and passwords."""


def _user_op(username: str, password: str, create: bool) -> None:
    from pulpwood.runtime import build_runtime
    from pulpwood.services.users import create_user, get_user, set_password

    settings = _settings()

    async def run() -> None:
        runtime = build_runtime(settings)
        try:
            async with runtime.write_session() as session:
                async with session.begin():
                    if create:
                        if await get_user(session, username) is not None:
                            raise click.ClickException(f"User {username!r} already exists.")
                        await create_user(session, username, password, superuser=True)
                    elif await set_password(session, username, password) is None:
                        raise click.ClickException(f"No user {username!r}.")
        finally:
            await runtime.close()

    asyncio.run(run())


@admin.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_cmd(username: str, password: str) -> None:
    """Create a (superuser) account."""
    _user_op(username, password, create=True)
    click.echo(f"Created user {username!r}.")


@admin.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_cmd(username: str, password: str) -> None:
    """Change a user's password."""
    _user_op(username, password, create=False)
    click.echo(f"Password of {username!r} changed.")
