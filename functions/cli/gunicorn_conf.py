"""Gunicorn settings for the API, read from our settings: `gunicorn -c python:functions.cli.gunicorn_conf
functions.wsgi:app` (what `openwa api` runs). Operators may add flags with `GUNICORN_CMD_ARGS`, which gunicorn
applies after this file, e.g. `GUNICORN_CMD_ARGS="--access-logfile -"` to turn the access log on.

Workers: gevent (`GUNICORN_WORKER_CLASS`), `WEB_CONCURRENCY` of them (gunicorn's convention; `openwa api
--workers` sets it), else two per usable CPU (2..16), each serving up to `GUNICORN_WORKER_CONNECTIONS`
connections at once. A request waiting on something slow (an event stream, a media download from a slow
URL, a runner command) is a greenlet parked on its socket, so no client or remote peer can take the
capacity health checks, auth and sends need: with gthread, 2 x 4 request threads were all held by 8 open
event streams and every probe timed out (`tests/e2e/test_request_capacity.py`). Two processes per CPU:
a process's greenlets run on one core, and a send's CPU bursts between Redis round trips queue there.
`GUNICORN_WORKER_CLASS=gthread` (with `GUNICORN_THREADS` per worker) is still accepted, for comparison.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

from functions.config import Settings, get_settings


def default_workers() -> int:
    """Two workers per CPU this process may run on, at least 2 (one can restart while the other serves)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(max(2 * usable, 2), 16)


def bind_address(settings: Settings) -> str:
    host = settings.bind_host
    return f"[{host}]:{settings.port}" if ":" in host else f"{host}:{settings.port}"


def forwarded_allow(settings: Settings) -> str:
    """TRUSTED_PROXIES as gunicorn wants it (strict networks); empty trusts no peer's X-Forwarded-Proto."""
    return ",".join(str(ipaddress.ip_network(item, strict=False)) for item in settings.trusted_proxies)


_settings = get_settings()

wsgi_app = "functions.wsgi:app"
bind = [bind_address(_settings)]
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
threads = int(os.environ.get("GUNICORN_THREADS") or 4)  # gthread only
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS") or 1000)  # gevent only
# gthread's timeout is the worker heartbeat, not a request deadline: handlers are short (sends are queued).
timeout = 30
graceful_timeout = 10  # `openwa up` waits 12 s after its first SIGTERM, so this must stay below that
keepalive = 5
accesslog: str | None = None
errorlog = "-"
logger_class = "functions.cli.gunicorn_logging.StructuredLogger"  # gunicorn's lines in our log format
loglevel = _settings.log_level
proc_name = "openwa-api"
forwarded_allow_ips = forwarded_allow(_settings)
# gunicorn >= 25 opens a control socket at a fixed per-user path; two instances would fight over it.
control_socket_disable = True
# Heartbeat files on tmpfs: a worker stalled on a slow disk would otherwise look dead and be killed.
_SHM = Path("/dev/shm")  # noqa: S108 - gunicorn's own advice; it creates unlinked files there itself
worker_tmp_dir = str(_SHM) if _SHM.is_dir() and os.access(_SHM, os.W_OK) else None


def post_worker_init(worker: Any) -> None:
    """Once the worker runs the app: its stop signals end its event streams first (`functions.api.shutdown`),
    so a graceful stop does not wait `graceful_timeout` for streams that never end."""
    from functions.api.shutdown import end_streams_on_stop

    end_streams_on_stop(worker.wsgi)
