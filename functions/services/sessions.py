"""Session lifecycle as the API sees it: record the desired state, then let runners converge.

The API never touches a browser. `start`/`stop`/`restart`/`force-kill` change the session record and
wake the runners; `logout` and `pairing-code` need the live session process, so they run as jobs on the
session's queue and the API waits for the answer (RunnerTimeout when no runner holds the session).
A new session is mirrored to storage at once (`mirror`, `functions.storage.manifests`: best effort, the
runner mirrors it again at every auth snapshot), so `openwa recover` can rebuild it after a Redis loss.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from functions.core.clock import utcnow
from functions.core.enums import DesiredState, SessionStatus
from functions.core.errors import DomainError, NotFound
from functions.core.models import Session, SessionConfig
from functions.core.proxy import proxy_context
from functions.log import get_logger
from functions.queueing import SessionJob
from functions.services.runner_commands import RunnerCommands
from functions.state.sessions import SessionRepository
from functions.state.webhooks import WebhookRepository

log = get_logger(__name__)

_LIVE_STATUSES = {
    SessionStatus.INITIALIZING,
    SessionStatus.QR_READY,
    SessionStatus.AUTHENTICATING,
    SessionStatus.READY,
    SessionStatus.ACTION_REQUIRED,
}


class SessionNotFound(NotFound):
    code, default_message = "SESSION_NOT_FOUND", "Session not found"


def require_session(sessions: SessionRepository, session_id: str) -> None:
    """SessionNotFound unless the session exists (for services of a session's sub-resources)."""
    if not sessions.exists(session_id):
        raise SessionNotFound(details={"sessionId": session_id})


class SessionNotStarted(DomainError):
    status, code, default_message = 400, "SESSION_NOT_STARTED", "Session is not started"


class QrNotAvailable(DomainError):
    status, code, default_message = 400, "QR_NOT_AVAILABLE", "No QR code is available for this session"


@dataclass(frozen=True)
class SessionView:
    """A session plus whether a runner currently holds it (OpenWA's `engineLoaded`)."""

    session: Session
    engine_loaded: bool


@lru_cache(maxsize=64)
def _views(rows: tuple[tuple[Session, bool], ...]) -> tuple[SessionView, ...]:
    """Views of a page's rows, memoised on them: the repository returns the same rows object for an
    unchanged page, so the list route renders the same views (and memoises its body on them)."""
    return tuple(SessionView(session, loaded) for session, loaded in rows)


class SessionService:
    """Create, read, configure and command sessions."""

    def __init__(
        self,
        repo: SessionRepository,
        webhooks: WebhookRepository,
        commands: RunnerCommands,
        *,
        delete_blobs: Callable[[str], object],
        encrypt_secret: Callable[[str, str], str],
        mirror: Callable[[Session], object] | None = None,
        purge: Callable[[str], object] | None = None,
        max_total: int | None = None,
    ) -> None:
        """`purge(session_id)` removes a deleted session's leftovers (its message records, holds, media...,
        in the background); `max_total` caps the sessions that may exist (SessionLimitReached past it)."""
        self._repo = repo
        self._purge = purge
        self._max_total = max_total
        self._webhooks = webhooks
        self._commands = commands
        self._delete_blobs = delete_blobs
        self._encrypt_secret = encrypt_secret
        self._mirror = mirror

    def create(self, name: str, config: dict[str, Any] | None, proxy_url: str | None) -> SessionView:
        now = utcnow()
        session_id = str(uuid.uuid4())
        session = Session(
            id=session_id,
            name=name,
            created_at=now,
            updated_at=now,
            config=SessionConfig.from_wire(config),
            proxy_url_encrypted=self._encrypt_secret(proxy_url, proxy_context(session_id))
            if proxy_url
            else None,
            proxy_type=proxy_url.split("://", 1)[0] if proxy_url else None,
        )
        created = self._repo.create(session, max_total=self._max_total)
        if self._mirror is not None:
            try:
                self._mirror(created)
            except DomainError as exc:  # storage down: the session works, it is only not recoverable yet
                log.warning("session_mirror_failed", session_id=session_id, reason=exc.message)
        return SessionView(created, engine_loaded=False)

    def get(self, session_id: str) -> SessionView:
        session = self._repo.get(session_id)
        if session is None:
            raise SessionNotFound(details={"sessionId": session_id})
        return SessionView(session, self._repo.engines_loaded([session_id])[session_id])

    def page(
        self, *, limit: int, offset: int, name: str | None, only: list[str] | None
    ) -> tuple[SessionView, ...]:
        """A page of sessions; an unchanged unfiltered page is the same tuple (see `_views`)."""
        if name is None and only is None:
            return _views(self._repo.page_with_leases(limit=limit, offset=offset))
        if name is not None:
            session_id = self._repo.id_for_name(name)
            ids = [session_id] if session_id and (only is None or session_id in only) else []
            rows = self._repo.get_many_with_leases(ids)
        else:
            rows = self._repo.get_many_with_leases(self._repo.page_ids(limit=limit, offset=offset, only=only))
        return tuple(SessionView(session, loaded) for session, loaded in rows)

    def delete(self, session_id: str) -> Session:
        """Remove the record, its webhooks, queued jobs and stored auth; runners drop it on wake; and
        everything else it left (messages, holds, counters, media) by the purge job."""
        session = self.get(session_id).session
        self._repo.delete(session)
        self._webhooks.delete_for_session(session_id)
        self._commands.purge_queue(session_id)
        self._delete_blobs(f"auth/{session_id}/")
        self._commands.wake(session_id)
        if self._purge is not None:
            self._purge(session_id)
        return session

    def get_config(self, session_id: str) -> SessionConfig:
        return self.get(session_id).session.config

    def patch_config(self, session_id: str, patch: dict[str, Any]) -> SessionConfig:
        """Merge-patch the tunables; a null value resets that key to its default."""
        merged = self.get_config(session_id).to_wire()
        defaults = SessionConfig().to_wire()
        for name, value in patch.items():
            merged[name] = defaults[name] if value is None else value
        config = SessionConfig.from_wire(merged)
        self._require_updated(session_id, config=config)
        return config

    def start(self, session_id: str) -> SessionView:
        view = self.get(session_id)
        if view.session.status not in _LIVE_STATUSES or view.session.desired_state is DesiredState.STOPPED:
            self._require_updated(
                session_id,
                desired_state=DesiredState.RUNNING,
                status=SessionStatus.INITIALIZING,
                last_error=None,
            )
        self._commands.wake(session_id)
        return self.get(session_id)

    def stop(self, session_id: str) -> SessionView:
        self.get(session_id)
        self._require_updated(
            session_id, desired_state=DesiredState.STOPPED, status=SessionStatus.DISCONNECTED, qr=None
        )
        self._commands.wake(session_id)
        return self.get(session_id)

    def restart(self, session_id: str) -> SessionView:
        self.get(session_id)
        self._repo.increment(session_id, "restart_generation")
        self._require_updated(
            session_id,
            desired_state=DesiredState.RUNNING,
            status=SessionStatus.INITIALIZING,
            last_error=None,
            qr=None,
        )
        self._commands.wake(session_id)
        return self.get(session_id)

    def force_kill(self, session_id: str) -> SessionView:
        """SIGKILL the session's process through its runner; 400 when no runner holds it."""
        if not self.get(session_id).engine_loaded:
            raise SessionNotStarted("No running engine to kill for this session")
        self._repo.increment(session_id, "kill_generation")
        self._require_updated(
            session_id, desired_state=DesiredState.STOPPED, status=SessionStatus.DISCONNECTED, qr=None
        )
        self._commands.wake(session_id)
        return self.get(session_id)

    def logout(self, session_id: str) -> SessionView:
        """Unlink the device and wipe credentials; needs the live session process."""
        if not self.get(session_id).engine_loaded:
            raise SessionNotStarted("Session must be running to log out")
        self._commands.call(session_id, SessionJob.LOGOUT)
        self._require_updated(
            session_id,
            desired_state=DesiredState.STOPPED,
            status=SessionStatus.DISCONNECTED,
            phone=None,
            push_name=None,
            qr=None,
        )
        self._commands.wake(session_id)
        return self.get(session_id)

    def qr(self, session_id: str) -> Session:
        session = self.get(session_id).session
        if session.status is not SessionStatus.QR_READY or not session.qr:
            raise QrNotAvailable(details={"status": session.status.value})
        return session

    def request_pairing_code(self, session_id: str, phone_number: str) -> dict[str, Any]:
        session = self.get(session_id).session
        if session.desired_state is not DesiredState.RUNNING or session.status not in {
            SessionStatus.INITIALIZING,
            SessionStatus.QR_READY,
        }:
            raise SessionNotStarted(
                "Start the session and wait for it to be waiting for a link before pairing",
                details={"status": session.status.value},
            )
        result = self._commands.call(session_id, SessionJob.REQUEST_PAIRING_CODE, phone_number=phone_number)
        return {"pairingCode": result["pairingCode"], "status": self.get(session_id).session.status.value}

    def overview(self, only: list[str] | None) -> dict[str, Any]:
        sessions = self._repo.page(limit=10**9, offset=0, only=only)
        by_status = Counter(session.status.value for session in sessions)
        return {
            "total": len(sessions),
            "active": sum(by_status[status.value] for status in _LIVE_STATUSES),
            "ready": by_status[SessionStatus.READY.value],
            "disconnected": by_status[SessionStatus.DISCONNECTED.value],
            "byStatus": {status.value: by_status[status.value] for status in SessionStatus},
        }

    def _require_updated(self, session_id: str, **changes: Any) -> None:
        if not self._repo.update(session_id, **changes):
            raise SessionNotFound(details={"sessionId": session_id})
