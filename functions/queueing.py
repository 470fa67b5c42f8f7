"""The only module that knows queue names and job paths.

Jobs are referenced by dotted path (strings) so `functions` never imports `runner`:
the API enqueues `runner.jobs.*` onto a session's queue, and only the session process imports them.

Queues
- `session:<sessionId>`: commands for the process holding that session (send, logout, pairing code...).
  Consumed by exactly one session process at a time (the lease holder).
- `webhooks`: webhook delivery jobs, consumed by `openwa worker`.

Supervisor wake-ups go over the pub/sub channel `<prefix>:runner:wake`; runners also poll, so a lost
notification only delays convergence, it never loses a command (desired state lives in the session record).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.job import Job

WEBHOOKS_QUEUE = "webhooks"
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


def runner_wake_channel(prefix: str) -> str:
    return f"{prefix}:runner:wake"
