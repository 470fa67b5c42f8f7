"""A session process's queue worker and the recovery of jobs a dead holder left behind (real Redis, real RQ
workers; no browser)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from redis import Redis
from rq import Queue
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from runner.session_worker import (
    ABANDONED_RUNS_META,
    MAX_ABANDONED_RUNS,
    SessionWorker,
    recover_orphaned_jobs,
    unblock_when_stopping,
)
from tests.runner.conftest import wait_for

WORKER_NAME = "session-s1-7"


@pytest.fixture
def queue(redis_conn: Redis) -> Queue:
    return Queue("session:s1", connection=redis_conn)


@pytest.fixture(autouse=True)
def _keep_pytest_signal_handlers() -> Iterator[None]:
    """The worker installs its SIGTERM/SIGINT handlers in this process; put pytest's back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def worker(queue: Queue, *, stopping: threading.Event, may_run: bool = True) -> SessionWorker:
    return SessionWorker(
        [queue],
        stopping=stopping,
        may_run=lambda: may_run,
        connection=queue.connection,
        name=WORKER_NAME,
    )


def queued_ids(queue: Queue) -> list[str]:
    return [job_id for job_id in queue.get_job_ids()]


def abandon(queue: Queue, job: Job) -> None:
    """A real RQ worker process starts `job` (a long sleep) and is SIGKILLed mid-run."""
    script = (
        "import sys; from redis import Redis; from rq import Queue, SimpleWorker; "
        "conn = Redis.from_url(sys.argv[1]); "
        "SimpleWorker([Queue(sys.argv[2], connection=conn)], connection=conn).work(burst=True)"
    )
    kwargs = queue.connection.connection_pool.connection_kwargs
    auth = f":{quote(kwargs['password'], safe='')}@" if kwargs.get("password") else ""
    url = f"redis://{auth}{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
    process = subprocess.Popen([sys.executable, "-c", script, url, queue.name])
    try:
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 15, "the job to start")
    finally:
        process.kill()
        process.wait()


def test_a_worker_without_the_lease_gives_a_handed_job_back_to_the_front_unrun(queue: Queue) -> None:
    first = queue.enqueue("time.sleep", 0)
    second = queue.enqueue("time.sleep", 0)
    stopping = threading.Event()

    worker(queue, stopping=stopping, may_run=False).work(burst=True)

    assert stopping.is_set()  # a process that lost its lease stops
    assert queued_ids(queue) == [first.id, second.id]
    assert first.get_status(refresh=True) == JobStatus.QUEUED
    assert IntermediateQueue(queue.key, queue.connection).get_job_ids() == []


def test_a_stopping_worker_takes_no_job(queue: Queue) -> None:
    job = queue.enqueue("time.sleep", 0)
    stopping = threading.Event()
    stopping.set()

    assert not worker(queue, stopping=stopping).work(burst=True)
    assert queued_ids(queue) == [job.id]


def test_a_holding_worker_runs_its_jobs(queue: Queue) -> None:
    job = queue.enqueue("time.sleep", 0)
    assert worker(queue, stopping=threading.Event()).work(burst=True)
    assert job.get_status(refresh=True) == JobStatus.FINISHED


def test_a_stop_wakes_a_worker_blocked_on_its_empty_queue_at_once(queue: Queue, redis_url: str) -> None:
    blocking = Redis.from_url(redis_url, client_name=WORKER_NAME)
    stopping, done = threading.Event(), threading.Event()
    idle = SessionWorker(
        [Queue(queue.name, connection=blocking)],
        stopping=stopping,
        may_run=lambda: True,
        connection=blocking,
        name=WORKER_NAME,
        worker_ttl=60,  # dequeue blocks for 45 s at a time
    )
    waker = (queue.connection, WORKER_NAME, stopping, done)
    threading.Thread(target=unblock_when_stopping, args=waker, daemon=True).start()
    threading.Timer(1.0, stopping.set).start()

    started = time.monotonic()
    idle.work()
    done.set()
    assert time.monotonic() - started < 5


def test_jobs_of_a_dead_holder_go_back_to_the_front_started_one_first(queue: Queue) -> None:
    cut_off = queue.enqueue("time.sleep", 60)
    abandon(queue, cut_off)
    popped = queue.enqueue("time.sleep", 0)
    waiting = queue.enqueue("time.sleep", 0)
    # A dying worker's dequeue moved `popped` to RQ's intermediate list, then the worker died.
    assert Queue.dequeue_any([queue], None, connection=queue.connection) is not None

    assert recover_orphaned_jobs(queue) == 2

    assert queued_ids(queue) == [cut_off.id, popped.id, waiting.id]
    assert cut_off.get_status(refresh=True) == JobStatus.QUEUED
    assert cut_off.get_meta(refresh=True)[ABANDONED_RUNS_META] == 1
    assert StartedJobRegistry(queue=queue).count == 0
    assert IntermediateQueue(queue.key, queue.connection).get_job_ids() == []


def test_a_job_that_keeps_killing_its_process_is_failed_not_queued_again(queue: Queue) -> None:
    poison = queue.enqueue("time.sleep", 60, meta={ABANDONED_RUNS_META: MAX_ABANDONED_RUNS - 1})
    abandon(queue, poison)

    assert recover_orphaned_jobs(queue) == 0

    assert poison.get_status(refresh=True) == JobStatus.FAILED
    assert queued_ids(queue) == []
