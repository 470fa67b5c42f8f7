"""The production pieces: the API under gunicorn (`openwa api`) and an RQ worker (`openwa worker`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from functions.config import Settings
from functions.log import configure_logging, get_logger
from functions.queueing import MAINTENANCE_INTERVAL_SECONDS, WEBHOOKS_QUEUE, WORKER_QUEUES, WORKER_TTL_SECONDS

log = get_logger(__name__)

GUNICORN_CONFIG = "python:functions.cli.gunicorn_conf"
WSGI_APP = "functions.wsgi:app"


def gunicorn_argv() -> list[str]:
    """The gunicorn command line; settings come from `gunicorn_conf` (and GUNICORN_CMD_ARGS)."""
    return [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG, WSGI_APP]


def exec_api(settings: Settings, *, workers: int | None = None) -> NoReturn:
    """Replace this process with gunicorn serving `functions.wsgi:app` on BIND_HOST:PORT.

    Exec rather than a child: the pid a supervisor (or systemd, or `openwa up`) started is gunicorn's
    arbiter itself, so its signals go straight to gunicorn. Settings reach it through the environment.
    """
    env = dict(os.environ)
    env["PORT"] = str(settings.port)
    env["DATA_DIR"] = str(settings.data_dir)
    if workers is not None:
        env["WEB_CONCURRENCY"] = str(workers)
    argv = gunicorn_argv()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, env)  # noqa: S606 - fixed argv, no shell involved


def split_queues(values: Sequence[str]) -> list[str]:
    """`--queues a,b --queues c` -> ['a', 'b', 'c'], order kept, duplicates dropped."""
    names: list[str] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if name and name not in names:
                names.append(name)
    return names


def run_worker(settings: Settings, queues: Sequence[str], *, burst: bool = False) -> bool:
    """Run an RQ worker with its scheduler on `queues` until stopped (or drained, with `burst`).

    On our own queues (`webhooks`, `default`) jobs run in-process (`SimpleWorker`): a fork per delivery
    would cost more than the delivery and would lose the sender's keep-alive connections; job timeouts
    still apply (SIGALRM in the main thread). Other queues get the forking `Worker`, whose work-horse
    isolates a crashing or hanging job. With `webhooks`, a maintenance thread re-queues attempts lost with
    a dead worker and fans out events never fanned out (`functions.webhooks.maintenance`).
    Returns whether any job ran. SIGTERM is a warm shutdown (the running job finishes).
    """
    from rq import SimpleWorker, Worker  # imported here: `openwa --help` and `openwa up` should not pay

    from functions.state.connection import redis_from_settings
    from functions.webhooks.maintenance import MaintenanceLoop

    # rq 3 stops its loggers propagating only when no ancestor has a handler; a configured root keeps
    # worker and job records in our format (`reference/stack.md` §3).
    configure_logging(settings.log_level, settings.log_format.value)
    worker_class = SimpleWorker if set(queues) <= set(WORKER_QUEUES) else Worker
    worker = worker_class(
        list(queues),
        connection=redis_from_settings(settings),
        worker_ttl=WORKER_TTL_SECONDS,
        maintenance_interval=MAINTENANCE_INTERVAL_SECONDS,
    )
    maintenance = None
    if WEBHOOKS_QUEUE in queues and not burst:
        maintenance = MaintenanceLoop(redis_from_settings(settings), settings)
        maintenance.start()
    log.info("worker_started", queues=list(queues), scheduler=True)
    try:
        # No level for RQ to set: `configure_logging` chose its loggers' levels (no routine chatter at info).
        return worker.work(burst=burst, with_scheduler=True, logging_level=None)
    finally:
        if maintenance is not None:
            maintenance.stop()
