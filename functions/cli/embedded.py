"""`openwa up`: the whole gateway on one machine with nothing installed (DESIGN §1.6).

Order: Redis (REDIS_URL, else a private redis-server in `<data>/redis`), local storage in `<data>`, the admin
key, then the children from `child_specs()` (the API under gunicorn and the webhook worker); then it waits
for `/api/health/ready` and prints "ready". Ctrl-C or SIGTERM stops everything it started, API and workers
before Redis; a child that dies stops everything too, and `up` exits 1 naming it.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from functions.cli.processes import ChildExited, ChildSpec, StopRequested, Supervisor
from functions.cli.redis_server import PASSWORD_NAME, RedisLaunchError, private_directory, start_redis
from functions.config import Settings, environment_snapshot, load_settings
from functions.queueing import WORKER_QUEUES

READY_PATH = "/api/health/ready"
DOCS_PATH = "/api/docs"
INFRASTRUCTURE_WAVE = 0  # stopped last: everything else uses it
SERVICE_WAVE = 1


@dataclass(frozen=True)
class UpOptions:
    """Command-line choices of `openwa up`; None means "from settings"."""

    sandbox: bool = False
    port: int | None = None
    sandbox_port: int | None = None  # with `sandbox`: its port (default SANDBOX_PORT, else 2786)
    data_dir: Path | None = None
    workers: int | None = None  # API (gunicorn) worker processes
    webhook_workers: int = 1
    ready_timeout: float = 60.0


@dataclass(frozen=True)
class Console:
    """Where `up` talks: `say` for progress (stdout), `warn` for problems (stderr)."""

    say: Callable[[str], None]
    warn: Callable[[str], None]


class StartupError(Exception):
    """Startup cannot go on; the message is one line for the user."""


@dataclass(frozen=True)
class _AdminKey:
    key_file: Path
    key: str | None  # only when it was just created: it is printed once


UP_RUNNER_NICE = 19
# With --sandbox everything is on this machine: a webhook receiver or media server a developer starts beside
# it is on loopback, which the SSRF guard refuses elsewhere. SSRF_ALLOWED_HOSTS set by the user wins.
SANDBOX_ALLOWED_HOSTS = "127.0.0.1,::1,localhost"
DEFAULT_SANDBOX_PORT = 2786


def sandbox_address(options: UpOptions, env: dict[str, str]) -> tuple[str, int]:
    """Where the sandbox `up` starts listens: SANDBOX_HOST (a wildcard is reached on loopback) and
    `--sandbox-port`, else SANDBOX_PORT, else 2786."""
    host = env.get("SANDBOX_HOST") or "127.0.0.1"
    port = options.sandbox_port or int(env.get("SANDBOX_PORT") or DEFAULT_SANDBOX_PORT)
    wildcard = host in ("0.0.0.0", "::")  # noqa: S104 - recognised to be replaced, never bound here
    return ("127.0.0.1" if wildcard else host), port


def sandbox_allows_loopback(env: dict[str, str]) -> bool:
    """Whether `up --sandbox` opens loopback to webhooks and media URLs (no SSRF_ALLOWED_HOSTS chosen)."""
    return "SSRF_ALLOWED_HOSTS" not in env


def child_specs(options: UpOptions, env: dict[str, str]) -> list[ChildSpec]:
    """The long-running children of `up`, in start order. Each later piece is one line here."""
    openwa = [sys.executable, "-m", "functions.cli"]
    if options.sandbox:  # DESIGN §1.6: `--sandbox` also makes the sandbox the engine of every session
        env = {**env, "ENGINE_TYPE": "sandbox"}
        host, port = sandbox_address(options, env)
        env["SANDBOX_PORT"] = str(port)
        if options.sandbox_port or "SANDBOX_URL" not in env:  # the runner finds the sandbox where it listens
            env["SANDBOX_URL"] = f"http://{_url_host(host)}:{port}/"
        if sandbox_allows_loopback(env):
            env["SSRF_ALLOWED_HOSTS"] = SANDBOX_ALLOWED_HOSTS
    api_args = ["--workers", str(options.workers)] if options.workers else []
    specs = [ChildSpec("api", [*openwa, "api", *api_args], env, SERVICE_WAVE)]
    for index in range(options.webhook_workers):
        name = "webhook-worker" if index == 0 else f"webhook-worker-{index + 1}"
        queues = ",".join(WORKER_QUEUES)
        specs.append(ChildSpec(name, [*openwa, "worker", "--queues", queues], env, SERVICE_WAVE))
    # One machine for everything: the runner (its browsers above all) yields the CPU to the API, so a
    # backlog of sends never slows the answers to requests; RUNNER_NICE set by the user wins.
    runner_env = {"RUNNER_NICE": str(UP_RUNNER_NICE), **env}
    specs.append(ChildSpec("runner", [*openwa, "runner"], runner_env, SERVICE_WAVE))
    if options.sandbox:  # first, so the runner finds it up; it serves its own port (SANDBOX_PORT, 2786)
        specs.insert(0, ChildSpec("sandbox", [*openwa, "sandbox"], env, SERVICE_WAVE))
    return specs


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def unavailable_options(options: UpOptions) -> str | None:
    """Why `options` cannot run in this build, or None. Checked before anything starts."""
    return None


def run_up(options: UpOptions, console: Console) -> int:
    """Run everything until Ctrl-C/SIGTERM (exit 0) or a failure (exit 1). Raises SettingsError."""
    settings = _settings_for(options)
    refused = unavailable_options(options)
    if refused:
        console.warn(f"openwa: {refused}")
        return 2
    started = time.monotonic()
    code = 0
    with Supervisor(console.warn) as supervisor:
        try:
            _start_everything(settings, options, supervisor, console, started)
            supervisor.run_until_stopped()
        except StopRequested:
            console.say(
                "openwa: stopping: the API finishes open requests (event streams end at once), workers their "
                "current job, the runner closes its sessions, then Redis (Ctrl-C again to hurry)"
            )
        except ChildExited as exc:
            console.warn(f"openwa: {exc} unexpectedly; stopping everything")
            code = 1
        except (StartupError, RedisLaunchError) as exc:
            console.warn(f"openwa: {exc}")
            code = 1
    console.say("openwa: stopped")
    return code


def _settings_for(options: UpOptions) -> Settings:
    overrides: dict[str, object] = {}
    if options.port is not None:
        overrides["port"] = options.port
    if options.data_dir is not None:
        overrides["data_dir"] = options.data_dir
    settings = load_settings(**overrides)
    # Absolute, so children, Redis's --dir and the printed key path agree whatever their working directory.
    return settings.model_copy(update={"data_dir": settings.data_dir.resolve()})


def _start_everything(
    settings: Settings, options: UpOptions, supervisor: Supervisor, console: Console, started: float
) -> None:
    _require_free_port(settings.bind_host, settings.port, "PORT")
    if options.sandbox:
        _require_free_port(*sandbox_address(options, dict(os.environ)), "SANDBOX_PORT (--sandbox-port)")
    private_directory(settings.data_dir)  # keys, auth state, media and Redis's AOF live here
    os.umask(0o077)  # so do the files every child creates: private from the first byte
    settings = _with_redis(settings, supervisor, console)
    admin = _prepare_state(settings)
    env = environment_snapshot(settings)
    if "ssrf_allowed_hosts" in settings.model_fields_set:  # chosen in .env: as chosen as in the environment
        env.setdefault("SSRF_ALLOWED_HOSTS", ",".join(settings.ssrf_allowed_hosts))
    for spec in child_specs(options, env):
        supervisor.start(spec)
    _wait_ready(_base_url(settings) + READY_PATH, supervisor, options.ready_timeout)
    base = _base_url(settings)
    console.say(f"openwa: API      {base}  (docs: {base}{DOCS_PATH})")
    console.say(f"openwa: dashboard {base}/  (paste the admin key there)")
    if admin.key:
        console.say(f"openwa: admin key (shown once; also saved in {admin.key_file}): {admin.key}")
    else:
        console.say(f"openwa: admin key in {admin.key_file}")
    if options.sandbox:
        host, port = sandbox_address(options, env)
        console.say(
            f"openwa: sandbox  http://{_url_host(host)}:{port}/  (virtual phones; control API /_sandbox)"
        )
        console.say(
            "openwa: next: make a phone, create and start a session, link the phone with the session's QR "
            "(README: 'Try it without a phone')"
        )
    if options.sandbox and sandbox_allows_loopback(env):
        console.say(
            f"openwa: sandbox mode: webhooks and media URLs may target this machine "
            f"(SSRF_ALLOWED_HOSTS={SANDBOX_ALLOWED_HOSTS}; set SSRF_ALLOWED_HOSTS to choose)"
        )
    console.say(f"openwa: ready in {time.monotonic() - started:.1f} s; press Ctrl-C to stop")


def _with_redis(settings: Settings, supervisor: Supervisor, console: Console) -> Settings:
    """Settings pointing at Redis: REDIS_URL as given, else a private server we start (and stop last)."""
    if "redis_url" in settings.model_fields_set:
        console.say(f"openwa: Redis    {_redacted(settings.redis_url)} (from REDIS_URL)")
        return settings
    directory = settings.data_dir / "redis"
    server = start_redis(directory, poll=supervisor.check)
    supervisor.adopt("redis", server.child, INFRASTRUCTURE_WAVE)
    console.say(
        f"openwa: Redis    private redis-server on {server.host}:{server.port}, AOF in {directory} "
        f"(password in {directory / PASSWORD_NAME})"
    )
    return settings.model_copy(update={"redis_url": server.url})


def _prepare_state(settings: Settings) -> _AdminKey:
    """Storage (creates the local encryption key once, before workers race for it) and the admin key."""
    from redis.exceptions import RedisError

    from functions.core.errors import DomainError
    from functions.services.bootstrap import ensure_admin_key
    from functions.state.connection import redis_from_settings
    from functions.storage import build_storage

    build_storage(settings)
    conn = redis_from_settings(settings)
    try:
        result = ensure_admin_key(settings, conn)
    except (RedisError, DomainError) as exc:
        raise StartupError(f"cannot use Redis at {_redacted(settings.redis_url)}: {exc}") from exc
    finally:
        conn.close()
    # A key the operator chose (API_MASTER_KEY) is theirs already: never echo it into a terminal or log.
    fresh = result.created and not settings.api_master_key
    return _AdminKey(result.key_file, result.key if fresh else None)


def _require_free_port(host: str, port: int, setting: str) -> None:
    # gunicorn would retry a taken port for 5 s and then exit (the sandbox at once, taking `up` down with
    # it); say it plainly instead, naming the setting that chooses the port.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            in_use = exc.errno == errno.EADDRINUSE
            reason = "is already in use" if in_use else f"cannot be bound ({exc.strerror})"
            raise StartupError(f"{setting} {port} on {host} {reason}") from exc


def _wait_ready(url: str, supervisor: Supervisor, timeout: float) -> None:
    """Poll `url` until it answers 200, watching children (a dead one raises ChildExited)."""
    # Straight to our own port: an http_proxy in the environment must not carry the probe elsewhere.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline:
        supervisor.check()
        try:
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        supervisor.sleep(0.05)
    raise StartupError(f"the API was not ready within {timeout:.0f} s ({READY_PATH}: {last})")


def _display_host(settings: Settings) -> str:
    host = settings.bind_host
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - comparing, not binding
        return "127.0.0.1" if host != "::" else "[::1]"
    return f"[{host}]" if ":" in host else host


def _base_url(settings: Settings) -> str:
    return f"http://{_display_host(settings)}:{settings.port}"


def _redacted(url: str) -> str:
    """A Redis URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + netloc).geturl()
