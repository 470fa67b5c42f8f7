"""The queue side of a session process: its RQ worker, and the settling of jobs a dead holder left behind.

Only the lease holder consumes queue `session:<id>`, yet around a failover two processes can briefly listen
on it: the old holder, stopping (its runner died and PDEATHSIG sent it SIGTERM, or its lease was lost), and
the new one. RQ's stock SIGTERM handling raises `StopRequested` from the signal handler, which can land
anywhere between the blocking dequeue and the start of a job. So `SessionWorker`:

- turns SIGTERM/SIGINT into the process's `stopping` flag, never an exception thrown into Redis I/O; the
  process then wakes the blocked dequeue with `CLIENT UNBLOCK` (`unblock_when_stopping`), so it notices at
  once instead of after the dequeue timeout;
- dequeues nothing once the process is stopping;
- gives back a job it is handed while stopping or no longer allowed to run jobs (`may_run`: the lease is
  gone, or the supervisor died, which a process sees at once, before its PDEATHSIG signal is even handled):
  the job goes back to the front of its queue, unrun, for the next holder (`give_back`).

`recover_orphaned_jobs` is what the new holder runs before consuming: jobs a dead process had taken go back
to the front of the queue, whether it had started them or not. Session jobs are idempotent (a send skips a
message id that already exists), so a job cut off half-way is safe to run again. A job that keeps killing
its process is failed after `MAX_ABANDONED_RUNS` (RQ's AbandonedJobError), so it cannot crash-loop a session.
This is not a blanket RQ `Retry`: a job that *fails* (WhatsApp refused a send) stays failed.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError, ResponseError
from rq import Queue, SimpleWorker
from rq.executions import Execution
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

log = logging.getLogger(__name__)

MAX_ABANDONED_RUNS = 3
ABANDONED_RUNS_META = "openwa_abandoned_runs"
UNBLOCK_RETRY_SECONDS = 0.2
_UNBLOCKED = "UNBLOCKED"  # the error a blocked command gets from `CLIENT UNBLOCK <id> ERROR`


class SessionWorker(SimpleWorker):
    """RQ's SimpleWorker for one session queue, which never runs a job its process should not run.

    `stopping` is the process's stop flag (set by SIGTERM/SIGINT here, or by the process itself);
    `may_run` is checked before each job and must be True for the job to run here.
    """

    def __init__(
        self,
        queues: list[Queue],
        *,
        stopping: threading.Event,
        may_run: Callable[[], bool],
        **kwargs: Any,
    ) -> None:
        super().__init__(queues, **kwargs)
        self._stopping = stopping
        self._may_run = may_run

    def _install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only a flag: the current job (if any) finishes, and the dequeue loop ends at its next turn.
        self._stopping.set()

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """None (which ends RQ's work loop) once stopping, including when woken by `CLIENT UNBLOCK`."""
        if self._stopping.is_set():
            return None
        try:
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        except ResponseError as exc:
            if _UNBLOCKED in str(exc):
                return None
            raise

    def execute_job(self, job: Job, queue: Queue) -> None:
        if self._stopping.is_set() or not self._may_run():
            log.info("job %s handed to a stopping session process: given back to %s", job.id, queue.name)
            give_back(job, queue)
            self._stopping.set()
            return
        super().execute_job(job, queue)


def give_back(job: Job, queue: Queue) -> None:
    """Return a dequeued, unstarted job to the front of its queue (out of RQ's intermediate list)."""
    intermediate = IntermediateQueue(queue.key, connection=queue.connection)
    with queue.connection.pipeline() as pipe:
        pipe.lrem(intermediate.key, 1, job.id)
        queue.push_job_id(job.id, pipeline=pipe, at_front=True)
        pipe.execute()


def unblock_when_stopping(
    conn: Redis, client_name: str, stopping: threading.Event, done: threading.Event
) -> None:
    """Thread body: once `stopping` is set, wake every connection named `client_name` that is blocked in a
    command (the worker's BLMOVE), until `done`. Repeated, because the worker may be between dequeues
    (heartbeat, or finishing a job) the first time and block again before it looks at the flag."""
    stopping.wait()
    while not done.is_set():
        try:
            for client in conn.client_list():
                if client.get("name") == client_name and "b" in client.get("flags", ""):
                    conn.client_unblock(int(client["id"]), error=True)
        except RedisError:
            log.warning("could not wake the session worker's dequeue; it stops at its timeout")
        done.wait(UNBLOCK_RETRY_SECONDS)


def recover_orphaned_jobs(queue: Queue) -> int:
    """Put back at the front of `queue` every job a dead holder of this session had taken; returns how many.

    Call it only while holding the session's lease and before consuming (then no live process is working
    on the queue, so whatever sits in RQ's started registry or intermediate list was abandoned):
    - a job in the intermediate list was popped but never started: it goes back as it is;
    - a started job was cut off mid-run: it goes back too (it is idempotent), counted in its meta; one
      abandoned `MAX_ABANDONED_RUNS` times is failed instead, as RQ fails abandoned jobs.
    Started jobs end up in front of the popped ones, keeping the order they were taken in.
    """
    conn = queue.connection
    started = StartedJobRegistry(queue=queue)
    intermediate = IntermediateQueue(queue.key, connection=conn)
    started_ids = {job_id for job_id, _ in started.get_job_and_execution_ids(cleanup=False)}
    recovered = 0
    for job_id in reversed(intermediate.get_job_ids()):
        if job_id not in started_ids:
            with conn.pipeline() as pipe:
                pipe.lrem(intermediate.key, 1, job_id)
                queue.push_job_id(job_id, pipeline=pipe, at_front=True)
                pipe.execute()
            recovered += 1
    for job_id, execution_id in reversed(started.get_job_and_execution_ids(cleanup=False)):
        recovered += _requeue_started(queue, started, job_id, execution_id)
    # What is left is either stale (the job finished or is gone) or abandoned too often: RQ settles both.
    started.cleanup(timestamp=time.time() + 10**7)
    return recovered


def _requeue_started(queue: Queue, started: StartedJobRegistry, job_id: str, execution_id: str) -> int:
    job = queue.fetch_job(job_id)
    if job is None or job.get_status(refresh=False) != JobStatus.STARTED:
        return 0
    runs = int(job.meta.get(ABANDONED_RUNS_META, 0)) + 1
    if runs >= MAX_ABANDONED_RUNS:
        log.warning("job %s was cut off %d times: failing it", job_id, runs)
        return 0
    job.meta[ABANDONED_RUNS_META] = runs
    job.save_meta()  # type: ignore[no-untyped-call]
    execution = Execution(execution_id, job_id, connection=queue.connection)
    with queue.connection.pipeline() as pipe:
        execution.delete(job=job, pipeline=pipe)
        pipe.lrem(IntermediateQueue.get_intermediate_queue_key(queue.key), 0, job_id)
        job.set_status(JobStatus.QUEUED, pipeline=pipe)
        queue.push_job_id(job_id, pipeline=pipe, at_front=True)
        pipe.execute()
    log.info("job %s was cut off by a dead session process: queued again (run %d)", job_id, runs + 1)
    return 1
