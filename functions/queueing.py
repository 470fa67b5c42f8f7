"""The only module that knows queue names and job paths.

Jobs are referenced by dotted path (strings) so `functions` never imports `runner`:
the API enqueues `runner.jobs.*` onto a session's queue, and only the session process imports them.

Queues
- `session:<sessionId>`: commands for the process holding that session (send, logout, pairing code...).
  Consumed by exactly one session process at a time (the lease holder).
- `webhooks`: webhook deliveries, consumed by `openwa worker`. A delivery due now goes on the queue's ready
  list (`WEBHOOKS_READY_KEY`), which drain jobs (`functions.jobs.webhook_delivery.drain`) empty in batches;
  a delayed retry is a `deliver(delivery_id, attempt)` job that RQ's scheduler releases when due.
- `default`: other background jobs of `functions.jobs`, also consumed by `openwa worker`.

Supervisor wake-ups go over the pub/sub channel `<prefix>:runner:wake`; runners also poll, so a lost
notification only delays convergence, it never loses a command (desired state lives in the session record).
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import WatchError
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.utils import get_call_string, now, utcformat

WEBHOOKS_QUEUE = "webhooks"
DEFAULT_QUEUE = "default"
WORKER_QUEUES = (WEBHOOKS_QUEUE, DEFAULT_QUEUE)
WEBHOOK_DELIVERY_JOB = "functions.jobs.webhook_delivery.deliver"
WEBHOOK_DRAIN_JOB = "functions.jobs.webhook_delivery.drain"
# Deliveries due now, `<deliveryId>:<attempt>`, oldest first; the flag saying a drain job is waiting on the
# RQ queue; and the bell that wakes a drain job lingering for more work. They belong to the `webhooks` queue
# (RQ's queues are not under REDIS_PREFIX either).
WEBHOOKS_READY_KEY = "rq:queue:webhooks:ready"
WEBHOOKS_WAKE_KEY = "rq:queue:webhooks:wake"
WEBHOOKS_BELL_KEY = "rq:queue:webhooks:bell"
# How long a drain job keeps claiming deliveries; its RQ timeout is one attempt's plus this.
WEBHOOK_DRAIN_SECONDS = 1
# A waiting drain job that is lost (its worker died between dequeuing and running it) only holds the flag
# this long; `wake_webhook_drain` (run by the maintenance loop) then queues another.
WEBHOOK_WAKE_TTL_MS = 5000
# A finished delivery job expires quickly (the delivery record is the log): letting it expire is cheaper
# than RQ's explicit delete of `result_ttl=0` (measured: ~2.5 ms per job). A crashed one is kept a day.
WEBHOOK_JOB_RESULT_TTL = 30
WEBHOOK_JOB_FAILURE_TTL = 24 * 3600
SESSION_QUEUE_PREFIX = "session:"
# A deleted session's leftovers (`functions.jobs.session_purge`): removed at once and once more this later.
SESSION_PURGE_JOB = "functions.jobs.session_purge.purge"
SESSION_PURGE_AGAIN_SECONDS = 60
# An inbound message of a session with automation rules (`functions.jobs.auto_reply`): idempotent, so retried
# (only Redis outages raise) a few times.
AUTO_REPLY_JOB = "functions.jobs.auto_reply.answer"
AUTO_REPLY_RETRY_INTERVALS = (2, 10, 30)

# Worker tuning: a SIGKILLed worker's job must be noticed quickly (stack.md §3: defaults take ~13 min).
WORKER_TTL_SECONDS = 60
MAINTENANCE_INTERVAL_SECONDS = 15


class SessionJob:
    """Dotted paths of the runner's session-process jobs (module `runner.jobs`)."""

    LOGOUT = "runner.jobs.logout"
    REQUEST_PAIRING_CODE = "runner.jobs.request_pairing_code"
    SEND_MESSAGE = "runner.jobs.send_message"
    # Queue the sends held for readiness (the session is ready again): run between jobs, see `runner.outbox`.
    RELEASE_HELD = "runner.jobs.release_held"
    # Optional engine capabilities (message actions, chats, contacts, history; `functions.core.chats`).
    ENGINE_CAPABILITY = "runner.jobs.engine_capability"


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
    at_front: bool = False,
    **kwargs: Any,
) -> Job:
    """Put a command for session `session_id` on its queue (at its front with `at_front`: the next job
    run); the holder of the session lease runs it."""
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
        at_front=at_front,
    )


# A send job: short-lived result (the message record is the log), failures kept a day for inspection.
SEND_JOB_OPTIONS = JobOptions(timeout=120, result_ttl=30, failure_ttl=24 * 3600)
# The release of held sends (`SessionJob.RELEASE_HELD`): its result is only looked at while it waits to run.
RELEASE_JOB_OPTIONS = JobOptions(timeout=60, result_ttl=30, failure_ttl=3600)


# Tries to move due scheduled jobs before leaving it to the next poll (another process moved them meanwhile).
_RELEASE_ATTEMPTS = 3


def enqueue_send(
    conn: Redis,
    session_id: str,
    message_id: str,
    *,
    pipeline: Pipeline,
    send_at: datetime | None = None,
    at_front: bool = False,
) -> None:
    """Queue the send of stored message `message_id` on the session's queue (written when the caller
    executes `pipeline`, together with the record), at its back or, with `at_front`, its front. With a
    future `send_at`, the job waits in RQ's scheduled registry until the session process moves it to the
    queue (`release_due_jobs`); with a past one it is queued now."""
    queue = session_queue(conn, session_id)
    opts = SEND_JOB_OPTIONS
    options: dict[str, Any] = {
        "args": (session_id, message_id),
        "timeout": opts.timeout,
        "result_ttl": opts.result_ttl,
        "failure_ttl": opts.failure_ttl,
    }
    if send_at is None or send_at.timestamp() <= time.time():
        data = Queue.prepare_data(SessionJob.SEND_MESSAGE, at_front=at_front, **options)
        queue.enqueue_many([data], pipeline=pipeline)
        return
    job = queue.create_job(SessionJob.SEND_MESSAGE, status=JobStatus.SCHEDULED, **options)
    # RQ scores scheduled jobs in whole seconds (truncating): round up, so a send is never early.
    queue.schedule_job(job, datetime.fromtimestamp(math.ceil(send_at.timestamp()), UTC), pipeline=pipeline)


@dataclass(frozen=True)
class QueuedJob:
    """An RQ job written by hand (one Lua call with whatever else the caller writes), exactly as RQ's own
    enqueue would: `HSET job_key fields`, `SADD registry queue_key`, `RPUSH queue_key job_id`."""

    job_id: str
    job_key: str
    queue_key: str
    registry: str
    fields: tuple[Any, ...]  # name, value, name, value...


_VARYING_FIELDS = ("data", "description", "origin", "created_at", "enqueued_at")


@dataclass(frozen=True)
class _JobTemplate:
    """RQ's serialisation of one kind of job: `fields` flattened (name, value, ...), and where in it the
    value of each field that varies from one job to the next sits (`slots`, in `_VARYING_FIELDS` order)."""

    job: Job
    fields: tuple[Any, ...]
    slots: tuple[int, ...]


@lru_cache(maxsize=16)
def _job_template(func: str, timeout: int, result_ttl: int, failure_ttl: int) -> _JobTemplate:
    """RQ's own serialisation of a job of this kind, made once: from one job to the next only the arguments,
    the queue, the id and the timestamps change (RQ's own enqueue costs ~0.3 ms of the caller's CPU)."""
    job = Job.create(
        func,
        connection=Redis(),  # never used: nothing is sent, `to_dict` only serialises
        origin="template",
        timeout=timeout,
        result_ttl=result_ttl,
        failure_ttl=failure_ttl,
        status=JobStatus.QUEUED,
    )
    job.enqueued_at = now()
    fields = [(name, value) for name, value in job.to_dict().items() if value is not None]
    names = [name for name, _ in fields]
    slots = tuple(2 * names.index(name) + 1 for name in _VARYING_FIELDS)
    return _JobTemplate(job, tuple(item for field in fields for item in field), slots)


def hand_written_job(func: str, queue_name: str, args: tuple[Any, ...], options: JobOptions) -> QueuedJob:
    """Job `func(*args)` due now on queue `queue_name`, as RQ's enqueue would write it (no retry), for the
    caller to write in its own Lua call."""
    template = _job_template(func, options.timeout, options.result_ttl, options.failure_ttl)
    stamp = utcformat(now())
    varying = (
        # Uncompressed, which RQ reads as well (`Job.restore` falls back to the raw bytes when zlib refuses
        # them, as it always does a pickle): zlib gains nothing on ~130 bytes of call, and setting up its
        # deflate state per job was the biggest part of writing one (13 us quiet, several times that when
        # the worker's threads compete).
        template.job.serializer.dumps((func, None, args, {})),
        get_call_string(func, args, {}, max_length=75),
        queue_name,
        stamp,
        stamp,
    )
    flat = list(template.fields)
    for slot, value in zip(template.slots, varying, strict=True):
        flat[slot] = value
    job_id = str(uuid.uuid4())
    queue_key = Queue.redis_queue_namespace_prefix + queue_name
    return QueuedJob(job_id, Job.key_for(job_id), queue_key, Queue.redis_queues_keys, tuple(flat))


def send_job(session_id: str, message_id: str) -> QueuedJob:
    """The send job of stored message `message_id`, due now, ready to be written by the caller."""
    queue_name = session_queue_name(session_id)
    return hand_written_job(SessionJob.SEND_MESSAGE, queue_name, (session_id, message_id), SEND_JOB_OPTIONS)


def release_due_jobs(conn: Redis, session_id: str, *, limit: int = 100) -> int:
    """Move the session's scheduled jobs that are due onto its queue, in due order; returns how many.

    The session process polls this rather than running RQ's scheduler, which forks a child process from
    the session process (a threaded process: Playwright's loop) and whose lock a SIGKILLed holder's orphaned
    child would keep past a failover. Atomic (WATCH on the registry): two processes polling around a failover
    move a job once, and a process dying half-way moves nothing."""
    queue = session_queue(conn, session_id)
    registry = ScheduledJobRegistry(queue=queue)  # type: ignore[no-untyped-call]
    with conn.pipeline(transaction=True) as pipe:
        for _ in range(_RELEASE_ATTEMPTS):
            try:
                pipe.watch(registry.key)  # type: ignore[no-untyped-call]
                raw = pipe.zrangebyscore(registry.key, 0, time.time(), start=0, num=limit)
                ids = [item.decode() if isinstance(item, bytes) else str(item) for item in raw]
                if not ids:
                    return 0
                jobs = Job.fetch_many(ids, connection=conn)
                pipe.multi()
                for job_id, job in zip(ids, jobs, strict=True):
                    pipe.zrem(registry.key, job_id)
                    if job is not None:
                        queue.enqueue_job(job, pipeline=pipe)
                pipe.execute()
                return sum(job is not None for job in jobs)
            except WatchError:
                continue
    return 0


def purge_session_queue(conn: Redis, session_id: str) -> int:
    """Drop every job still waiting for a session, due or scheduled (on delete); returns how many."""
    queue = session_queue(conn, session_id)
    scheduled = ScheduledJobRegistry(queue=queue)  # type: ignore[no-untyped-call]
    later = scheduled.get_job_ids()
    for job_id in later:
        scheduled.remove(job_id, delete_job=True)
    count = queue.count + len(later)
    queue.delete(delete_jobs=True)
    return count


# Push entries on the ready list; if it then holds any, ring the bell (a token that wakes one drain job
# waiting for work, kept to two so a quiet spell leaves few), and if no drain job is waiting on the RQ
# queue, put one there exactly as RQ's own enqueue would (job hash, queue registered, id pushed). Flag and
# job go together, so a set flag always means a drain job is waiting (or its flag has not yet expired).
_PUSH_AND_WAKE = """
local count = tonumber(ARGV[3])
for i = 4, 3 + count do redis.call('RPUSH', KEYS[1], ARGV[i]) end
if redis.call('LLEN', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[6], '1')
redis.call('LTRIM', KEYS[6], -2, -1)
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[1]) then return 0 end
redis.call('HSET', KEYS[5], unpack(ARGV, 4 + count))
redis.call('SADD', KEYS[4], KEYS[3])
redis.call('RPUSH', KEYS[3], ARGV[2])
return 1
"""


def _push_and_wake(client: Redis | Pipeline, entries: list[str], timeout: int) -> None:
    options = JobOptions(
        timeout=timeout + WEBHOOK_DRAIN_SECONDS,
        result_ttl=WEBHOOK_JOB_RESULT_TTL,
        failure_ttl=WEBHOOK_JOB_FAILURE_TTL,
    )
    job = hand_written_job(WEBHOOK_DRAIN_JOB, WEBHOOKS_QUEUE, (), options)
    keys = [
        WEBHOOKS_READY_KEY,
        WEBHOOKS_WAKE_KEY,
        job.queue_key,
        job.registry,
        job.job_key,
        WEBHOOKS_BELL_KEY,
    ]
    # EVAL, not EVALSHA: inside a caller's pipeline a registered script costs an extra SCRIPT EXISTS round
    # trip, and Redis caches the compiled script by its body anyway.
    args = [WEBHOOK_WAKE_TTL_MS, job.job_id, len(entries), *entries, *job.fields]
    client.eval(_PUSH_AND_WAKE, len(keys), *keys, *args)


def wake_webhook_drain(client: Redis | Pipeline, *, timeout: int) -> None:
    """If deliveries are ready: wake a drain job lingering for work, and queue one if none is waiting (a
    no-op when none is ready)."""
    _push_and_wake(client, [], timeout)


def ready_entry(delivery_id: str, attempt: int) -> str:
    return f"{delivery_id}:{attempt}"


def wait_webhook_ready(conn: Redis, timeout: float) -> bool:
    """Block until the bell rings (True: entries were pushed since, the caller claims them atomically) or
    `timeout` seconds pass (False). A ring wakes one waiting drain job, not all of them."""
    # Redis takes fractional seconds here (redis-py's annotation says int); never 0, which blocks forever.
    seconds: Any = round(max(timeout, 0.01), 3)
    return conn.blpop([WEBHOOKS_BELL_KEY], seconds) is not None


def enqueue_webhook_delivery(
    conn: Redis,
    delivery_id: str,
    attempt: int,
    *,
    timeout: int,
    delay: float = 0.0,
    pipeline: Pipeline | None = None,
) -> None:
    """Queue attempt `attempt` (0-based) of a delivery now (the ready list), or after `delay` seconds (a
    `deliver` job RQ's scheduler, run by `openwa worker`, moves to the queue). `timeout` bounds one attempt.
    With `pipeline`, nothing is sent until the caller executes it, so the entry and the delivery record it
    points to are written together."""
    if delay <= 0:
        client = pipeline if pipeline is not None else conn
        _push_and_wake(client, [ready_entry(delivery_id, attempt)], timeout)
        return
    queue = webhooks_queue(conn)
    job = queue.create_job(
        WEBHOOK_DELIVERY_JOB,
        args=(delivery_id, attempt),
        timeout=timeout,
        result_ttl=WEBHOOK_JOB_RESULT_TTL,
        failure_ttl=WEBHOOK_JOB_FAILURE_TTL,
        status=JobStatus.SCHEDULED,
    )
    # RQ scores scheduled jobs in whole seconds (truncating): round up, so a retry is never early.
    when = datetime.fromtimestamp(math.ceil((datetime.now(UTC) + timedelta(seconds=delay)).timestamp()), UTC)
    if pipeline is None:
        queue.schedule_job(job, when)
    else:
        queue.schedule_job(job, when, pipeline=pipeline)


def enqueue_session_purge(conn: Redis, session_id: str) -> None:
    """Queue the purge of a deleted session on the `default` queue: now, and again a minute later."""
    queue = Queue(DEFAULT_QUEUE, connection=conn)
    options = {"job_timeout": 600, "result_ttl": 3600, "failure_ttl": WEBHOOK_JOB_FAILURE_TTL}
    queue.enqueue(SESSION_PURGE_JOB, session_id, **options)
    queue.enqueue_in(timedelta(seconds=SESSION_PURGE_AGAIN_SECONDS), SESSION_PURGE_JOB, session_id, **options)


def enqueue_auto_reply(conn: Redis, session_id: str, message_id: str, *, pipeline: Pipeline) -> None:
    """Queue the auto-reply decision for inbound message `message_id` on the `default` queue (written when
    the caller executes `pipeline`, with the event's webhook deliveries)."""
    data = Queue.prepare_data(
        AUTO_REPLY_JOB,
        args=(session_id, message_id),
        timeout=60,
        result_ttl=60,
        failure_ttl=WEBHOOK_JOB_FAILURE_TTL,
        retry=Retry(max=len(AUTO_REPLY_RETRY_INTERVALS), interval=list(AUTO_REPLY_RETRY_INTERVALS)),
    )
    Queue(DEFAULT_QUEUE, connection=conn).enqueue_many([data], pipeline=pipeline)


def runner_wake_channel(prefix: str) -> str:
    return f"{prefix}:runner:wake"


@dataclass(frozen=True)
class QueueStats:
    """One RQ queue: jobs waiting, and the sizes of its started, failed, scheduled and deferred registries."""

    name: str
    queued: int
    started: int
    failed: int
    scheduled: int
    deferred: int


_REGISTRIES = (StartedJobRegistry, FailedJobRegistry, ScheduledJobRegistry, DeferredJobRegistry)


def queue_stats(conn: Redis) -> list[QueueStats]:
    """`webhooks`, `default` and every `session:<id>` queue RQ knows, by name (two round trips).

    Registry sizes are plain ZCARDs: RQ's own `count` also cleans the registry up, which a read for a
    metrics scrape must not do. A started job whose worker died counts until RQ's maintenance reaps it.
    """
    names = set(WORKER_QUEUES)
    queue_prefix = Queue.redis_queue_namespace_prefix
    for raw in conn.smembers(Queue.redis_queues_keys):
        name = (raw.decode() if isinstance(raw, bytes) else str(raw)).removeprefix(queue_prefix)
        if name.startswith(SESSION_QUEUE_PREFIX):
            names.add(name)
    ordered = sorted(names)
    with conn.pipeline(transaction=False) as pipe:
        for name in ordered:
            pipe.llen(queue_prefix + name)
            for registry in _REGISTRIES:
                pipe.zcard(registry.key_template.format(name))
        counts = pipe.execute()
    width = 1 + len(_REGISTRIES)
    return [
        QueueStats(name, *counts[index * width : (index + 1) * width]) for index, name in enumerate(ordered)
    ]
