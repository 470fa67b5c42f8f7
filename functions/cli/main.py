"""The `openwa` command. Every command loads settings first: a bad setting prints one line and exits 2.

Heavy imports (gunicorn, rq, Flask, boto3) happen inside the commands, so `openwa --help` is instant and the
children `openwa up` starts only pay for what they run.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from functions.config import Settings, SettingsError, load_settings

ROLES = ("admin", "operator", "viewer")


def _settings(**overrides: Any) -> Settings:
    """Load settings or stop with exit code 2 and the one-line reason on stderr."""
    try:
        return load_settings(**{name: value for name, value in overrides.items() if value is not None})
    except SettingsError as exc:
        _fail(str(exc), 2)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    raise click.exceptions.Exit(code)


def _echo(line: str, *, err: bool) -> None:
    # After a SIGHUP the terminal may be gone; a failed progress line must not interrupt the shutdown.
    with contextlib.suppress(OSError):
        click.echo(line, err=err)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """OpenWA for Python: a self-hosted WhatsApp HTTP API gateway."""


@cli.command()
@click.option("--sandbox", is_flag=True, help="Also start the WhatsApp sandbox and use it as the engine.")
@click.option("--port", type=int, help="API port (overrides PORT).")
@click.option(
    "--sandbox-port",
    type=click.IntRange(1, 65535),
    help="With --sandbox: the sandbox's port (overrides SANDBOX_PORT; default 2786).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory (overrides DATA_DIR).",
)
@click.option("--workers", type=click.IntRange(min=1), help="API worker processes (default: one per CPU).")
@click.option(
    "--webhook-workers", type=click.IntRange(min=1), default=1, show_default=True, help="Webhook workers."
)
def up(
    sandbox: bool,
    port: int | None,
    sandbox_port: int | None,
    data_dir: Path | None,
    workers: int | None,
    webhook_workers: int,
) -> None:
    """Run everything on this machine: a private Redis (unless REDIS_URL is set), local storage in the data
    directory, the API and dashboard (gunicorn), the webhook worker(s), a runner (the sessions' browsers)
    and, with --sandbox, the WhatsApp sandbox as every session's engine.

    Ctrl-C stops every process it started, the API first (its open event streams are closed), Redis last.
    """
    from functions.cli.embedded import Console, UpOptions, run_up

    if sandbox_port is not None and not sandbox:
        _fail("openwa up: --sandbox-port needs --sandbox", 2)
    options = UpOptions(
        sandbox=sandbox,
        port=port,
        sandbox_port=sandbox_port,
        data_dir=data_dir,
        workers=workers,
        webhook_workers=webhook_workers,
    )
    console = Console(say=lambda line: _echo(line, err=False), warn=lambda line: _echo(line, err=True))
    try:
        code = run_up(options, console)
    except SettingsError as exc:
        _fail(str(exc), 2)
    # Every child is gone by now. Skip interpreter teardown: unloading boto3 and friends takes 0.3-1.5 s
    # on a busy 2-core machine and would only delay the prompt after Ctrl-C.
    with contextlib.suppress(OSError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


@cli.command()
@click.option("--port", type=int, help="Port (overrides PORT).")
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes (default: WEB_CONCURRENCY or CPUs)."
)
def api(port: int | None, workers: int | None) -> None:
    """Serve the HTTP API with gunicorn (replaces this process)."""
    from functions.cli.serve import exec_api

    exec_api(_settings(port=port), workers=workers)


@cli.command()
@click.option(
    "--queues",
    "-q",
    multiple=True,
    default=("webhooks,default",),
    show_default=True,
    help="Queue names (repeat or a,b).",
)
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker (with scheduler) on QUEUES."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from functions.cli.serve import run_worker, split_queues

    settings = _settings()
    names = split_queues(queues)
    if not names:
        _fail("openwa worker: --queues names no queue", 2)
    try:
        run_worker(settings, names, burst=burst)
    except RedisConnectionError as exc:
        _fail(f"openwa worker: cannot reach Redis: {exc}", 1)


@cli.command()
@click.option("--port", type=int, help="Port (default SANDBOX_PORT or 2786).")
@click.option("--host", help="Interface (default SANDBOX_HOST or 127.0.0.1).")
@click.option("--data-dir", help="State directory (default SANDBOX_DATA_DIR or <DATA_DIR>/sandbox).")
@click.option("--qr-interval", type=float, help="QR rotation in seconds (default 20, as WhatsApp Web).")
def sandbox(port: int | None, host: str | None, data_dir: str | None, qr_interval: float | None) -> None:
    """Run the WhatsApp sandbox: virtual phones and a WhatsApp Web double (replaces this process)."""
    # `functions` never imports `runner` (DESIGN §2): the sandbox runs as its own module, by exec.
    args = [sys.executable, "-m", "runner.sandbox"]
    for flag, value in (("--port", port), ("--host", host), ("--data-dir", data_dir)):
        if value is not None:
            args += [flag, str(value)]
    if qr_interval is not None:
        args += ["--qr-interval", str(qr_interval)]
    os.execv(sys.executable, args)  # noqa: S606 - replacing this process is the point


@cli.command()
@click.option(
    "--drain",
    "drain_id",
    metavar="RUNNER_ID",
    help="Instead: ask the running runner RUNNER_ID to hand its sessions over and exit; wait for it.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="Seconds to wait (--drain).",
)
def runner(drain_id: str | None, timeout: float) -> None:
    """Run a runner supervisor: claims sessions and drives their browsers (replaces this process).

    SIGTERM, or `openwa runner --drain RUNNER_ID` from anywhere that reaches Redis, drains: no more claims,
    each session stores a final auth snapshot and its lease is released at once for another runner.
    """
    settings = _settings()  # a bad setting stops here with one line, before the runner starts
    if drain_id is not None:
        from functions.cli.operations import drain_runner

        say, warn = (lambda line: _echo(line, err=False)), (lambda line: _echo(line, err=True))
        raise click.exceptions.Exit(drain_runner(settings, drain_id, timeout, say, warn))
    # `functions` never imports `runner` (DESIGN §2): exec its entry point as a module instead.
    os.execv(sys.executable, [sys.executable, "-m", "runner"])  # noqa: S606 - fixed argv, our own module


@cli.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be recreated.")
def recover(dry_run: bool) -> None:
    """Rebuild the session registry from the manifests in storage after a Redis loss.

    Missing sessions come back with their ids, names and config, wanted running if they were, and runners
    restore their stored credentials (no new QR). The admin key is seeded again from API_MASTER_KEY.
    """
    from functions.cli.operations import recover as run_recover

    say, warn = (lambda line: _echo(line, err=False)), (lambda line: _echo(line, err=True))
    raise click.exceptions.Exit(run_recover(_settings(), dry_run, say, warn))


@cli.group()
def keys() -> None:
    """Manage API keys."""


def _networks(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    try:
        return [str(ipaddress.ip_network(value, strict=False)) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@keys.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="cli", show_default=True)
@click.option("--allowed-session", "allowed_sessions", multiple=True, metavar="ID", help="Repeatable.")
@click.option(
    "--allowed-ip", "allowed_ips", multiple=True, metavar="CIDR", callback=_networks, help="Repeatable."
)
def keys_create(role: str, name: str, allowed_sessions: tuple[str, ...], allowed_ips: list[str]) -> None:
    """Create an API key and print it (the only time it is shown)."""
    from functions.core.enums import Role
    from functions.core.errors import DomainError
    from functions.services.api_keys import ApiKeyService
    from functions.state.api_keys import ApiKeyRepository
    from functions.state.connection import redis_from_settings
    from functions.state.keys import Keys

    settings = _settings()
    conn = redis_from_settings(settings)
    service = ApiKeyService(
        ApiKeyRepository(conn, Keys(settings.redis_prefix)), pepper=settings.api_key_pepper
    )
    try:
        record, plaintext = service.create(
            name,
            Role.parse(role),
            allowed_ips=allowed_ips or None,
            allowed_sessions=list(allowed_sessions) or None,
        )
    except DomainError as exc:
        _fail(f"openwa keys create: {exc.message}", 2 if exc.status < 500 else 1)
    finally:
        conn.close()
    click.echo(plaintext)
    click.echo(f"created {role} key {record.id} ({name}); it is not shown again", err=True)
