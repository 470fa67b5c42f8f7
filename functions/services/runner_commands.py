"""Commands for the runners: desired-state nudges and jobs whose answer the API waits for."""

from __future__ import annotations

import time
from typing import Any

from redis import Redis
from rq.job import Job, JobStatus

from functions.core.errors import DomainError, RunnerTimeout
from functions.queueing import JobOptions, enqueue_session_job, purge_session_queue, runner_wake_channel
from functions.state.connection import translate_redis_errors

_POLL_SECONDS = 0.05


class RunnerCommandFailed(DomainError):
    status, code, default_message = 502, "RUNNER_COMMAND_FAILED", "The session runner could not complete this"


class RunnerCommands:
    """Talks to runners through Redis only: pub/sub wake-ups and RQ jobs on `session:<id>`."""

    def __init__(self, conn: Redis, prefix: str, *, timeout_seconds: float) -> None:
        self._conn = conn
        self._prefix = prefix
        self._timeout = timeout_seconds

    def wake(self, session_id: str) -> None:
        """Ask runners to reconcile now; they also poll, so a lost message only delays them."""
        with translate_redis_errors():
            self._conn.publish(runner_wake_channel(self._prefix), session_id)

    def purge_queue(self, session_id: str) -> int:
        """Drop the session's waiting jobs (the session is being deleted)."""
        with translate_redis_errors():
            return purge_session_queue(self._conn, session_id)

    def call(self, session_id: str, job_path: str, **kwargs: Any) -> Any:
        """Run a job on the session's process and wait for its result.

        Raises RunnerTimeout when no runner finishes it in time (the job is cancelled so it cannot act
        later), RunnerCommandFailed when the job failed.
        """
        timeout = int(self._timeout) + 5
        with translate_redis_errors():
            job = enqueue_session_job(
                self._conn, session_id, job_path, options=JobOptions(timeout=timeout), **kwargs
            )
            return self._wait(job)

    def _wait(self, job: Job) -> Any:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            status = job.get_status(refresh=True)
            if status == JobStatus.FINISHED:
                return job.return_value(refresh=False)
            if status in {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}:
                raise RunnerCommandFailed(details={"job": job.id, "status": str(status)})
            time.sleep(_POLL_SECONDS)
        if job.get_status(refresh=True) == JobStatus.QUEUED:
            job.cancel()
        raise RunnerTimeout(details={"job": job.id, "timeoutSeconds": self._timeout})
