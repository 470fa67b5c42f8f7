#!/usr/bin/env python3
"""`openwa-healthcheck api|worker|runner|sandbox`: the health probe of each OpenWA container.

Installed in the images as /usr/local/bin/openwa-healthcheck and run by their HEALTHCHECK, by the compose
healthchecks and by the Kubernetes exec probes. Contract: exit 0 when healthy, 1 when not, with one line on
stderr saying why; it never blocks longer than about 5 s.

- api: `GET /api/health/live` on this container's PORT answers 200. Liveness only: whether the process
  serves. Redis and storage are checked by `/api/health/ready`, which load balancers use to route traffic;
  a Redis outage must not get every API container restarted.
- worker: an RQ worker of this host is registered in Redis. RQ refreshes a worker's key on every heartbeat,
  so a hung or dead worker disappears when its TTL runs out.
- runner: a runner heartbeat of this host (`<hostname>-<pid>`), or of RUNNER_ID when set, is live in Redis:
  the supervisor loop is turning and reaches Redis.
- sandbox: `GET /_sandbox/phones` on SANDBOX_PORT (2786) answers 200.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis

TIMEOUT_SECONDS = 3.0
API_LIVE_PATH = "/api/health/live"
SANDBOX_PATH = "/_sandbox/phones"


class Unhealthy(Exception):
    """The probed process is not healthy; the message says why."""


def _loopback(bind_host: str) -> str:
    """Where to reach a server bound to `bind_host` from inside its own container."""
    if bind_host in {"", "0.0.0.0", "127.0.0.1"}:  # noqa: S104 - comparing, not binding
        return "127.0.0.1"
    if bind_host in {"::", "::1"}:
        return "[::1]"
    return f"[{bind_host}]" if ":" in bind_host else bind_host


def _http_ok(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - our own http URL
            status = response.status
    except urllib.error.HTTPError as exc:
        raise Unhealthy(f"{url} answered {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unhealthy(f"{url} unreachable: {exc}") from None
    if status != 200:
        raise Unhealthy(f"{url} answered {status}")


def check_api() -> None:
    from functions.config import load_settings

    settings = load_settings()
    _http_ok(f"http://{_loopback(settings.bind_host)}:{settings.port}{API_LIVE_PATH}")


def check_sandbox() -> None:
    port = int(os.environ.get("SANDBOX_PORT") or 2786)
    host = _loopback(os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    _http_ok(f"http://{host}:{port}{SANDBOX_PATH}")


def _redis(url: str) -> Redis:
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=2)


def check_worker() -> None:
    from redis.exceptions import RedisError
    from rq import Worker

    from functions.config import load_settings

    host = socket.gethostname()
    try:
        workers = Worker.all(connection=_redis(load_settings().redis_url))
    except RedisError as exc:
        raise Unhealthy(f"Redis unreachable: {exc}") from None
    if not any(worker.hostname == host for worker in workers):
        raise Unhealthy(f"no RQ worker of host {host} is registered")


def check_runner() -> None:
    from redis.exceptions import RedisError

    from functions.config import load_settings
    from functions.state.keys import Keys
    from runner.leases import LeaseStore

    settings = load_settings()
    conn = _redis(settings.redis_url)
    host = socket.gethostname()
    try:
        live = LeaseStore(conn, Keys(settings.redis_prefix), settings.session_lease_ttl).live_runners()
    except RedisError as exc:
        raise Unhealthy(f"Redis unreachable: {exc}") from None
    if settings.runner_id is not None:
        if settings.runner_id not in live:
            raise Unhealthy(f"runner {settings.runner_id} has no live heartbeat")
    elif not any(runner_id.startswith(f"{host}-") for runner_id in live):
        raise Unhealthy(f"no runner of host {host} has a live heartbeat")


CHECKS: dict[str, Callable[[], None]] = {
    "api": check_api,
    "worker": check_worker,
    "runner": check_runner,
    "sandbox": check_sandbox,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in CHECKS:
        print(f"usage: openwa-healthcheck {'|'.join(CHECKS)}", file=sys.stderr)
        return 2
    try:
        CHECKS[argv[0]]()
    except Unhealthy as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a probe reports any failure (bad settings, Redis errors) as unhealthy
        print(f"unhealthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
