"""The runner supervisor (`python -m runner`, `openwa runner`): claims sessions and keeps one session process
per claimed session, converging on the desired state in the session records.

Every tick (a third of SESSION_LEASE_TTL, at once when the API publishes on the wake channel or a session
process exits, and when a crashed process is due for its restart) it:
1. heartbeats (`<p>:runner:<id>`) and renews its leases; a lease it could not renew is lost, and that
   session's process is killed at once (another runner may already own the session);
2. reaps exited processes: a crash (or an unexplained exit) is restarted with exponential backoff (1 s,
   2 s, ... 60 s) while the lease is kept, the count starting again once a process has run for a minute;
   an exit after `failed` or logout releases the session;
3. converges: sessions it holds that were deleted or stopped are stopped (SIGTERM: the process stores a final
   snapshot first), a bumped `kill_generation` SIGKILLs, a bumped `restart_generation` restarts; sessions
   wanted running and held by nobody are claimed (`SET NX PX` + fencing generation) up to MAX_SESSIONS.
Drain (SIGTERM/SIGINT, or a drain request in Redis: `openwa runner --drain <id>`, `functions.state.drain`):
no more claims; every process is stopped (final snapshots); each lease is released as soon as its process
has exited and the other runners are nudged, so they take the session at once rather than after the TTL.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from types import FrameType

from redis import Redis
from redis.exceptions import RedisError

from functions.config import Settings
from functions.core.enums import DesiredState, SessionStatus
from functions.core.errors import StateUnavailable
from functions.core.models import Session
from functions.queueing import runner_wake_channel
from functions.state.codec import CorruptRecord
from functions.state.connection import redis_from_settings
from functions.state.drain import clear_drain, drain_requested
from functions.state.keys import Keys
from functions.state.runners import live_runners
from functions.state.sessions import SessionRepository
from runner.children import SessionChild, spawn
from runner.events import emit_event
from runner.leases import LeaseStore, default_runner_id

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
DRAIN_TIMEOUT_SECONDS = 30.0
DRAIN_POLL_SECONDS = 0.1
NO_CAPACITY = (
    "no runner has room for this session: every live runner holds MAX_SESSIONS sessions; it starts when one "
    "frees a place or another runner joins"
)


class Supervisor:
    """One runner. `run()` blocks until SIGTERM/SIGINT (or `stop()`), then drains."""

    def __init__(self, settings: Settings, runner_id: str | None = None) -> None:
        self.settings = settings
        self.runner_id = runner_id or settings.runner_id or default_runner_id()
        self.conn: Redis = redis_from_settings(settings)
        self.keys = Keys(settings.redis_prefix)
        self.repo = SessionRepository(self.conn, self.keys)
        self.leases = LeaseStore(self.conn, self.keys, settings.session_lease_ttl)
        self.children: dict[str, SessionChild] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.interval = settings.session_lease_ttl / 3

    def stop(self, signum: int = 0, frame: FrameType | None = None) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGCHLD, lambda *_: self._wake.set())  # a session process exited: reap now
        threading.Thread(target=self._listen_for_wakes, name="wake-listener", daemon=True).start()
        log.info("runner %s up (max %d sessions)", self.runner_id, self.settings.max_sessions)
        with contextlib.suppress(RedisError, StateUnavailable):  # a request left for an earlier process with
            clear_drain(self.conn, self.keys, self.runner_id)  # this id (a restarted pod) is not for this one
        while not self._stop.is_set():
            try:
                self.tick()
            except (RedisError, StateUnavailable):
                log.exception("runner %s: Redis unavailable; retrying", self.runner_id)
            self._wake.wait(self._next_wait())
            self._wake.clear()
        self.drain()

    def _next_wait(self) -> float:
        """Until the next tick: the interval, or sooner when a crashed process is due for its restart."""
        due = [child.respawn_at for child in self.children.values() if child.respawn_at is not None]
        return max(0.0, min([self.interval, *(when - time.monotonic() for when in due)]))

    def tick(self) -> None:
        """One pass of heartbeat, reaping and convergence (or the start of a drain, when one is requested)."""
        self._heartbeat()
        if drain_requested(self.conn, self.keys, self.runner_id):
            log.info("runner %s: drain requested", self.runner_id)
            self.stop()
            return
        self._reap()
        self._converge()

    def _heartbeat(self) -> None:
        self.leases.heartbeat(self.runner_id, sorted(self.children), self.settings.max_sessions)
        held = list(self.children.values())
        for child, renewed in zip(held, self.leases.renew([c.lease for c in held]), strict=True):
            if not renewed:
                log.warning("lease of session %s lost; killing its process", child.session_id)
                child.kill()
                del self.children[child.session_id]

    def _reap(self) -> None:
        now = time.monotonic()
        for child in list(self.children.values()):
            code = child.poll()
            if code is None:
                child.enforce_stop_deadline(now)
                if child.crashes and now - child.started_at >= MAX_BACKOFF_SECONDS:
                    child.crashes = 0  # it has run for a while: the next crash is a first one again
                continue
            if child.respawn_at is None:  # first seen exited: end what is left of its group, once (pid reuse)
                child.kill_leftovers()
            if child.stopping or not self._still_wanted(child.session_id):
                self._release(child)
            elif child.restart_requested:
                child.respawn_at, child.restart_requested = now, False
            elif child.respawn_at is None:
                child.crashes += 1
                child.respawn_at = now + min(2.0 ** (child.crashes - 1), MAX_BACKOFF_SECONDS)
                log.warning("session %s exited (%s); restart #%d", child.session_id, code, child.crashes)
            if child.session_id in self.children and child.respawn_at is not None and child.respawn_at <= now:
                self._respawn(child)

    def _still_wanted(self, session_id: str) -> bool:
        try:
            session = self.repo.get(session_id)
        except CorruptRecord:  # unreadable (logged): its wishes are unknown, so its exited process stays down
            return False
        return (
            session is not None
            and session.desired_state is DesiredState.RUNNING
            and session.status is not SessionStatus.FAILED
        )

    def _converge(self) -> None:
        sessions = {session.id: session for session in self.repo.get_many(self.repo.all_ids())}
        for session_id, child in list(self.children.items()):
            self._converge_held(child, sessions.get(session_id))
        left_out = []
        for session in sessions.values():
            if session.id not in self.children and self._wants_running(session):
                if len(self.children) >= self.settings.max_sessions:
                    left_out.append(session)
                else:
                    self._claim(session)
        if left_out:
            self._report_no_capacity(left_out)

    def _report_no_capacity(self, left_out: list[Session]) -> None:
        """Sessions wanted running that no runner holds, while every live runner is full: say so on each
        (`lastError`, and a `session.status` event), once, instead of leaving them silently initializing.
        The session's process clears `lastError` when a runner with room starts it."""
        if any(len(beat.sessions) < (beat.max_sessions or 0) for beat in live_runners(self.conn, self.keys)):
            return  # a runner with room will claim them
        for session, leased in self.repo.get_many_with_leases([s.id for s in left_out]):
            if leased or session.last_error == NO_CAPACITY:
                continue
            if self.repo.update(session.id, last_error=NO_CAPACITY):
                log.warning("session %s: no runner has capacity for it", session.id)
                data = {"sessionId": session.id, "status": session.status.value, "reason": NO_CAPACITY}
                emit_event(self.conn, self.settings, session.id, "session.status", data)

    def _converge_held(self, child: SessionChild, session: Session | None) -> None:
        if session is None and self.repo.exists(child.session_id):
            return  # its record is unreadable (`get_many` logged it), not deleted: leave the process be
        if session is None or session.kill_generation > child.kill_generation:
            log.info("session %s: %s", child.session_id, "deleted" if session is None else "force-kill")
            child.kill()
            self._release(child)
        elif session.desired_state is DesiredState.STOPPED:
            child.terminate()
        elif session.restart_generation > child.restart_generation:
            child.restart_generation = session.restart_generation
            child.restart_requested = True
            child.terminate(stopping=False)

    @staticmethod
    def _wants_running(session: Session) -> bool:
        return session.desired_state is DesiredState.RUNNING and session.status is not SessionStatus.FAILED

    def _claim(self, session: Session) -> None:
        lease = self.leases.claim(session.id, self.runner_id)
        if lease is None:
            return
        log.info("session %s claimed (generation %d)", session.id, lease.generation)
        self.children[session.id] = spawn(
            self.settings, lease, session.restart_generation, session.kill_generation
        )

    def _respawn(self, child: SessionChild) -> None:
        fresh = spawn(self.settings, child.lease, child.restart_generation, child.kill_generation)
        fresh.crashes = child.crashes
        self.children[child.session_id] = fresh

    def _release(self, child: SessionChild) -> None:
        self.children.pop(child.session_id, None)
        self.leases.release(child.lease)

    def drain(self) -> None:
        """Stop every session process (final snapshots); release each lease as soon as its own process has
        exited (killed after DRAIN_TIMEOUT_SECONDS) and nudge the other runners to claim it, renewing the
        leases still held meanwhile; then unregister and clear any drain request."""
        for child in self.children.values():
            child.terminate()
        deadline, renewed = time.monotonic() + DRAIN_TIMEOUT_SECONDS, time.monotonic()
        while self.children:
            for child in list(self.children.values()):
                if child.poll() is None and time.monotonic() < deadline:
                    continue
                child.kill()  # a no-op for an exited process, but its group may have leftovers
                self._hand_over(child)
            if self.children and time.monotonic() - renewed >= self.interval:
                renewed = time.monotonic()
                self._heartbeat()  # a slow final snapshot must not cost the lease meanwhile
            self._wake.wait(DRAIN_POLL_SECONDS)  # or at once when a process exits (SIGCHLD)
            self._wake.clear()
        self.leases.unregister(self.runner_id)
        clear_drain(self.conn, self.keys, self.runner_id)
        log.info("runner %s drained", self.runner_id)

    def _hand_over(self, child: SessionChild) -> None:
        if self.leases.holds(child.lease):  # nobody runs it now; another runner may claim it next
            self.repo.update(child.session_id, status=SessionStatus.DISCONNECTED, qr=None)
        self._release(child)
        self.conn.publish(runner_wake_channel(self.settings.redis_prefix), child.session_id)

    def _listen_for_wakes(self) -> None:
        """Turn pub/sub nudges from the API into an immediate tick; reconnects after Redis errors."""
        while not self._stop.is_set():
            try:
                pubsub = self.conn.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                pubsub.subscribe(runner_wake_channel(self.settings.redis_prefix))
                while not self._stop.is_set():
                    if pubsub.get_message(timeout=1.0) is not None:
                        self._wake.set()
            except RedisError:
                time.sleep(1.0)
