"""The only module that knows queue names and job paths.

Jobs are referenced by dotted path (strings) so `functions` never imports `runner`:
the API enqueues `runner.jobs.*` onto a session's queue, and only the session process imports them.

Queues
- `session:<sessionId>`: commands for the process holding that session (send, logout, pairing code...).
  Consumed by exactly one session process at a time (the lease holder).
- `webhooks`: webhook delivery jobs (`functions.jobs.webhook_delivery.deliver`), consumed by `openwa worker`.
- `default`: other background jobs of `functions.jobs`, also consumed by `openwa worker`.

Supervisor wake-ups go over the pub/sub channel `<prefix>:runner:wake`; runners also poll, so a lost
notification only delays convergence, it never loses a command (desired state lives in the session record).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import Queue, Retry
from rq.job import Job, JobStatus

WEBHOOKS_QUEUE = "webhooks"
DEFAULT_QUEUE = "default"
WORKER_QUEUES = (WEBHOOKS_QUEUE, DEFAULT_QUEUE)
WEBHOOK_DELIVERY_JOB = "functions.jobs.webhook_delivery.deliver"
# A finished delivery job expires quickly (the delivery record is the log): letting it expire is cheaper
# than RQ's explicit delete of `result_ttl=0` (measured: ~2.5 ms per job). A crashed one is kept a day.
WEBHOOK_JOB_RESULT_TTL = 30
WEBHOOK_JOB_FAILURE_TTL = 24 * 3600
SESSION_QUEUE_PREFIX = "session:"

# Worker tuning: a SIGKILLed worker's job must be noticed quickly (stack.md §3: defaults take ~13 min).
WORKER_TTL_SECONDS = 60
MAINTENANCE_INTERVAL_SECONDS = 15


class SessionJob:
    """Dotted paths of the runner's session-process jobs (module `runner.jobs`)."""

    LOGOUT = "runner.jobs.logout"
    REQUEST_PAIRING_CODE = "runner.jobs.request_pairing_code"
    SEND = "runner.jobs.send"


@dataclass(frozen=True)
class JobOptions:
    """Timeout and retry for one job kind; results kept briefly so callers can wait on them."""

    timeout: int = 60
    result_ttl: int = 300
    failure_ttl: int = 7 * 24 * 3600
    retry: Retry | None = None


def session_queue_name(session_id: str) -> str:
    return f"{SESSION_QUEUE_PREFIX}{session_id}"


def session_queue(conn: Redis, session_id: str) -> Queue:
    return Queue(session_queue_name(session_id), connection=conn)


def webhooks_queue(conn: Redis) -> Queue:
    return Queue(WEBHOOKS_QUEUE, connection=conn)


def enqueue_session_job(
    conn: Redis,
    session_id: str,
    job_path: str,
    *args: Any,
    job_id: str | None = None,
    options: JobOptions | None = None,
    **kwargs: Any,
) -> Job:
    """Put a command for session `session_id` on its queue; the holder of the session lease runs it."""
    opts = options or JobOptions()
    return session_queue(conn, session_id).enqueue(
        job_path,
        args=(session_id, *args),
        kwargs=kwargs or None,
        job_id=job_id,
        job_timeout=opts.timeout,
        result_ttl=opts.result_ttl,
        failure_ttl=opts.failure_ttl,
        retry=opts.retry,
    )


def purge_session_queue(conn: Redis, session_id: str) -> int:
    """Drop every job still waiting for a session (on delete); returns how many were dropped."""
    queue = session_queue(conn, session_id)
    count = queue.count
    queue.delete(delete_jobs=True)
    return count


def enqueue_webhook_delivery(
    conn: Redis,
    delivery_id: str,
    attempt: int,
    *,
    timeout: int,
    delay: float = 0.0,
    pipeline: Pipeline | None = None,
) -> None:
    """Queue attempt `attempt` (0-based) of a delivery now, or after `delay` seconds (RQ's scheduler, run
    by `openwa worker`, moves it to the queue). With `pipeline`, nothing is sent until the caller executes
    it, so the job and the delivery record it points to are written together."""
    queue = webhooks_queue(conn)
    options: dict[str, Any] = {
        "args": (delivery_id, attempt),
        "timeout": timeout,
        "result_ttl": WEBHOOK_JOB_RESULT_TTL,
        "failure_ttl": WEBHOOK_JOB_FAILURE_TTL,
    }
    if delay <= 0:
        queue.enqueue_many([Queue.prepare_data(WEBHOOK_DELIVERY_JOB, **options)], pipeline=pipeline)
        return
    job = queue.create_job(WEBHOOK_DELIVERY_JOB, status=JobStatus.SCHEDULED, **options)
    # RQ scores scheduled jobs in whole seconds (truncating): round up, so a retry is never early.
    when = datetime.fromtimestamp(math.ceil((datetime.now(UTC) + timedelta(seconds=delay)).timestamp()), UTC)
    if pipeline is None:
        queue.schedule_job(job, when)
    else:
        queue.schedule_job(job, when, pipeline=pipeline)


def runner_wake_channel(prefix: str) -> str:
    return f"{prefix}:runner:wake"
