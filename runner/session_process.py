"""One OS process per WhatsApp session: `python -m runner.session_process <session> <runner> <generation>`.

Started by the supervisor after it claimed the session's lease (generation = the lease's fencing number).
Playwright runs on an asyncio loop in a background thread, so browser events keep flowing while the main
thread's RQ `SimpleWorker` sits idle on queue `session:<id>` (DESIGN §1.4: Playwright only delivers events
while the loop runs; RQ's signal handling and job timeouts need the main thread). Jobs (`runner.jobs`) hand
their browser work to the loop with `run_coroutine_threadsafe(...).result(timeout)`.

Exit: SIGTERM (from the supervisor, or PDEATHSIG when the supervisor dies) or `request_stop` (lease lost,
device logged out, init failed) sets the stop flag: the worker finishes its current job, takes no other
(one it is handed meanwhile goes back to the front of the queue, see `runner.session_worker`), then a final
auth snapshot is stored and the browser closed. Exit code 0 always means "stopped on purpose"; anything
else is a crash the supervisor restarts: `request_restart` (the engine lost its browser: page crash, browser
exit) ends the same way with exit code 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from redis import Redis
from rq.exceptions import InvalidJobOperation
from rq.job import Job, JobStatus

from functions.config import Settings, get_settings
from functions.core.enums import SessionStatus
from functions.core.models import SessionConfig
from functions.core.pacing import PacingPolicy
from functions.crypto.envelope import envelope_from_settings
from functions.log import configure_logging
from functions.queueing import (
    RELEASE_JOB_OPTIONS,
    SessionJob,
    enqueue_session_job,
    release_due_jobs,
    session_queue,
)
from functions.services.messages import MessageService
from functions.state.batches import BatchRepository
from functions.state.connection import redis_from_settings
from functions.state.keys import Keys
from functions.state.messages import MessageRepository
from functions.state.pacing import PacingState
from functions.state.sessions import SessionRepository
from functions.state.stories import StoryRepository
from functions.storage import build_storage
from runner import jobs
from runner.auth_store import AuthStore
from runner.call_guard import CallGuard, text_reply
from runner.children import SUPERVISOR_PID_ENV
from runner.counters import MessageCounters
from runner.engines.base import Engine, EngineError
from runner.engines.registry import create_engine
from runner.inbox import Inbox
from runner.leases import Lease, LeaseStore
from runner.outbox import Outbox
from runner.pacing import Pacer
from runner.pending_media import PendingMedia
from runner.priority import lower_priority
from runner.proxy_settings import ProxyNotUsable, browser_proxy
from runner.reconnect import ReconnectPolicy
from runner.reporter import Reporter
from runner.session_worker import SessionWorker, recover_orphaned_jobs, unblock_when_stopping
from runner.stories import StoryInbox

T = TypeVar("T")
log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
HELD_POLL_SECONDS = 1.0
_WAITING = frozenset({JobStatus.QUEUED, JobStatus.STARTED})
SCHEDULED_POLL_SECONDS = 0.25
PRIORITY_REFRESH_SECONDS = 30.0


def _waiting(job: Job) -> bool:
    """Whether `job` is still to run or running (False once it ran and its result expired)."""
    try:
        return job.get_status(refresh=True) in _WAITING
    except InvalidJobOperation:
        return False


class SessionRuntime:
    """The session's engine on its loop thread, its reporter, and its queue worker."""

    def __init__(self, settings: Settings, lease: Lease) -> None:
        self.settings, self.lease = settings, lease
        self.conn = redis_from_settings(settings)
        keys = Keys(settings.redis_prefix)
        self.leases = LeaseStore(self.conn, keys, settings.session_lease_ttl)
        self.storage = build_storage(settings)
        envelope = envelope_from_settings(settings)
        self.auth = AuthStore(self.storage, envelope)
        self.reporter = Reporter(
            self.conn,
            settings,
            lease,
            repo=SessionRepository(self.conn, keys),
            leases=self.leases,
            auth=self.auth,
            on_lost=self.request_stop,
            on_crashed=self.request_restart,
        )
        self._proxy_problem: str | None = None  # the session's proxy cannot be used: it fails to start
        try:
            proxy = browser_proxy(self.reporter.session(), envelope)
        except ProxyNotUsable as exc:
            proxy, self._proxy_problem = None, str(exc)
        self.engine: Engine = create_engine(settings, self.reporter, proxy)
        self.reporter.snapshot = self.engine.snapshot
        self.messages = MessageRepository(
            self.conn, keys, retention_seconds=settings.message_retention_days * 86_400
        )
        sends = MessageService(
            settings, self.conn, keys, SessionRepository(self.conn, keys), self.messages, lambda: self.storage
        )
        reply = text_reply(sends, self.session_id, settings.auto_reject_calls_message)
        self.reporter.calls = CallGuard(self.engine, self.reporter.session, reply)
        counters = MessageCounters(self.conn, keys, self.session_id)
        self.pending_media = PendingMedia(
            self.session_id, self.messages, self.storage, self.engine, self.reporter.publish
        )
        self.reporter.inbox = Inbox(
            self.session_id,
            self.messages,
            self.storage,
            self.engine,
            max_media_bytes=settings.inbound_media_max_bytes,
            on_recorded=counters.recorded,
            on_failed=counters.failed,
            pending=self.pending_media,
        )
        self.reporter.stories = StoryInbox(
            self.session_id,
            StoryRepository(self.conn, keys),
            self.storage,
            self.engine,
            max_media_bytes=settings.inbound_media_max_bytes,
        )
        self.outbox = Outbox(
            self.conn,
            self.session_id,
            self.messages,
            self.storage,
            engine=self.engine,
            run=self.run,
            status=lambda: self.reporter.status,
            publish=self.reporter.publish,
            timeout=jobs.BROWSER_TIMEOUT,
            media_timeout=jobs.MEDIA_SEND_TIMEOUT,
            counters=counters,
            pacer=Pacer(
                PacingState(self.conn, keys),
                PacingPolicy.from_settings(settings),
                self.session_id,
                phone=lambda: getattr(self.reporter.session(), "phone", None),
                engine=self.engine,
                run=self.run,
            ),
            batches=BatchRepository(
                self.conn, keys, self.messages, retention_seconds=settings.message_retention_days * 86_400
            ),
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="engine-loop", daemon=True)
        self._stopping = threading.Event()
        self._exit_code = 0
        self._tasks: list[asyncio.Future[None]] = []

    @property
    def session_id(self) -> str:
        return self.lease.session_id

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coro` on the engine loop and wait for it (from the main thread, i.e. a job)."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise EngineError(f"the browser did not answer within {timeout:.0f} s") from None

    def request_stop(self, reason: str) -> None:
        """Stop the process soon (from any thread): the worker takes no new job and its dequeue is woken."""
        if not self._stopping.is_set():
            log.info("session %s stopping: %s", self.session_id, reason)
            self._stopping.set()

    def request_restart(self, reason: str) -> None:
        """Stop as `request_stop` does, but exit as crashed: the supervisor starts the session again."""
        self._exit_code = 1
        self.request_stop(reason)

    def serve(self) -> int:
        """Start the engine, consume the queue until asked to stop, then shut down. Returns the exit code."""
        self._thread.start()
        signal.signal(signal.SIGTERM, lambda *_: self._stopping.set())
        if self._start_engine():
            self.run(self._start_background_tasks(), 10)
            if not self._stopping.is_set():
                self._work()
        self._shutdown()
        return self._exit_code

    def _start_engine(self) -> bool:
        if not self.reporter.write(status=SessionStatus.INITIALIZING, qr=None, last_error=None):
            return False
        if self._proxy_problem is not None:
            self.reporter.fail(self._proxy_problem)
            return False
        files = self.auth.load(self.session_id)  # None: never linked, logged out or unreadable (a new QR)
        try:
            self.run(self.engine.start(files), self.settings.session_init_timeout + 15)
        except EngineError as exc:
            self.reporter.fail(str(exc))
            return False
        return True

    async def _start_background_tasks(self) -> None:
        coroutines = (
            self._snapshot_loop(),
            self._lease_watch(),
            self._init_deadline(),
            self._reconnects(),
            self._release_held(),
            self._release_scheduled(),
            self._cpu_priority(),
            self._store_pending_media(),
        )
        self._tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]

    async def _cpu_priority(self) -> None:
        """RUNNER_NICE for the browser too (see `runner.priority`): applied once the engine has started it,
        then again now and then for processes started since (a browser restarted by a reconnect)."""
        if not self.settings.runner_nice:
            return
        while True:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    lower_priority, os.getpid(), self.settings.runner_nice, spare=os.getppid()
                )
            await asyncio.sleep(PRIORITY_REFRESH_SECONDS)

    async def _store_pending_media(self) -> None:
        """Media that arrived while storage was down (`runner.pending_media`), this process's and any an
        earlier process of the session left pending."""
        await self.pending_media.resume()
        await self.pending_media.run(lambda: self.reporter.status is SessionStatus.READY)

    async def _snapshot_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.auth_snapshot_interval)
            await self.reporter.store_snapshot()

    async def _release_held(self) -> None:
        """Sends held for readiness (`"queue": true`, or a job that found the session down) go to the queue
        once the session is ready; polled, so a hold that raced the status change waits a second at most.
        Released by a job at the queue's front, not from here: the release must not run beside a send job
        (see `runner.outbox`)."""
        pending: Job | None = None
        while True:
            await asyncio.sleep(HELD_POLL_SECONDS)
            if self.reporter.status is SessionStatus.READY and not self._stopping.is_set():
                with contextlib.suppress(Exception):
                    pending = await asyncio.to_thread(self._ask_for_release, pending)

    def _ask_for_release(self, pending: Job | None) -> Job | None:
        """Queue a release job when sends are held and the last one asked for has run; returns the job
        waiting to run, if any."""
        if pending is not None and _waiting(pending):
            return pending
        if not self.messages.held_count(self.session_id):
            return None
        log.info("session %s: releasing held messages", self.session_id)
        return enqueue_session_job(
            self.conn, self.session_id, SessionJob.RELEASE_HELD, options=RELEASE_JOB_OPTIONS, at_front=True
        )

    async def _release_scheduled(self) -> None:
        """Scheduled sends (`sendAt`, bulk batches) go to the queue when due; RQ's own scheduler is not used,
        see `release_due_jobs`. A send due while the session is not ready is then held until it is."""
        while True:
            await asyncio.sleep(SCHEDULED_POLL_SECONDS)
            if not self._stopping.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(release_due_jobs, self.conn, self.session_id)

    async def _lease_watch(self) -> None:
        # Second line of defence behind the supervisor: a process whose lease is gone stops by itself.
        while True:
            await asyncio.sleep(self.settings.session_lease_ttl / 3)
            if not self._stopping.is_set() and not await asyncio.to_thread(self.leases.holds, self.lease):
                self.request_stop("lease lost")

    async def _reconnects(self) -> None:
        """OpenWA's reconnect policy: a link that stays down is re-established with backoff."""
        session = await asyncio.to_thread(self.reporter.session)
        config = session.config if session else SessionConfig()
        policy = ReconnectPolicy(config.reconnect_base_delay, config.max_reconnect_attempts)
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            if self.reporter.status is SessionStatus.READY:
                policy.connected(now)
            elif self.reporter.status is SessionStatus.DISCONNECTED and not self.reporter.closing:
                policy.disconnected(now)
                await self._maybe_reconnect(policy, now)

    async def _maybe_reconnect(self, policy: ReconnectPolicy, now: float) -> None:
        if policy.exhausted and policy.max_attempts:
            if policy.disconnected_since is not None and now - policy.disconnected_since >= policy.next_delay:
                await asyncio.to_thread(self.reporter.fail, "reconnect attempts exhausted")
                self.request_stop("reconnect budget exhausted")
            return
        if not policy.due(now):
            return
        if policy.attempted(now):
            data = {"attempts": policy.attempts, "nextDelayMs": int(policy.next_delay * 1000)}
            await asyncio.to_thread(self.reporter.publish, "session.reconnect_loop", data)
        try:
            await self.engine.reconnect()
        except EngineError as exc:
            log.warning("session %s: reconnect attempt %d failed: %s", self.session_id, policy.attempts, exc)

    async def _init_deadline(self) -> None:
        await asyncio.sleep(self.settings.session_init_timeout)
        if self.reporter.status is None:  # the engine never reported anything (no QR, not linked)
            await asyncio.to_thread(self.reporter.fail, "initialisation did not finish in time")
            self.request_stop("init deadline")

    def _work(self) -> None:
        queue = session_queue(self.conn, self.session_id)
        if recovered := recover_orphaned_jobs(queue):
            log.info("session %s: %d job(s) of a dead holder queued again", self.session_id, recovered)
        name = f"session-{self.session_id}-{self.lease.generation}"
        # Its own connection without a read timeout: RQ blocks in BLMOVE for worker_ttl - 15 s, which the
        # shared client's 5 s socket timeout would turn into "cannot connect" errors and retry backoffs.
        # Named, so that a stop can find the blocked dequeue and wake it (`unblock_when_stopping`); were
        # that refused, the 25 s dequeue still ends within the supervisor's 30 s grace for a stop.
        blocking = Redis.from_url(
            self.settings.redis_url, socket_connect_timeout=3, health_check_interval=30, client_name=name
        )
        worker = SessionWorker(
            [session_queue(blocking, self.session_id)],
            stopping=self._stopping,
            may_run=lambda: _supervised() and self.leases.holds(self.lease),
            connection=blocking,
            name=name,
            worker_ttl=40,
        )
        done = threading.Event()
        waker = (self.conn, name, self._stopping, done)
        threading.Thread(target=unblock_when_stopping, args=waker, name="dequeue-waker", daemon=True).start()
        log.info("session %s consuming %s", self.session_id, queue.name)
        try:
            # Scheduled jobs are moved by `_release_scheduled`, not by RQ's forked scheduler process.
            worker.work(logging_level="WARNING", with_scheduler=False)
        finally:
            done.set()

    def _shutdown(self) -> None:
        # The final snapshot is taken with the browser closed: Chromium writes localStorage to disk late (up
        # to a minute after a change), and only a closed profile is certain to hold all of it, at rest.
        with contextlib.suppress(Exception):
            self.run(self.engine.stop(), 20)
        with contextlib.suppress(Exception):
            self.run(self.reporter.save_snapshot(), 20)
        with contextlib.suppress(Exception):
            self.run(self.engine.discard(), 20)
        self.loop.call_soon_threadsafe(self.loop.stop)


def _supervised() -> bool:
    """False once the supervisor that started this process has died: the process was re-parented."""
    supervisor = os.environ.get(SUPERVISOR_PID_ENV)
    return not supervisor or os.getppid() == int(supervisor)


def _die_with_supervisor() -> None:
    """SIGTERM this process when the supervisor dies (Linux), so a killed runner leaves no orphan holding a
    browser; the orphan would stop anyway once its lease expired, but only after a TTL of double work."""
    supervisor = os.environ.get(SUPERVISOR_PID_ENV)
    if not sys.platform.startswith("linux") or not supervisor:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(supervisor):  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str]) -> int:
    session_id, runner_id, generation = argv
    _die_with_supervisor()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format.value)
    runtime = SessionRuntime(settings, Lease(session_id, runner_id, int(generation)))
    jobs.install(runtime)
    return runtime.serve()


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # Skip interpreter teardown: the engine thread is a daemon and Playwright's driver is already closed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
