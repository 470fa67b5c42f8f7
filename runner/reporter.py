"""What a session process tells the world: the session record, events, and stored credentials.

Implements `EngineListener` for the engine. Every record write is fenced: it happens only while this
process's lease token is still the live one, so a process that lost its session (expired lease, another
runner took over) cannot overwrite the new holder's status. Blocking I/O (Redis, S3) runs in worker threads
so the engine's event loop keeps flowing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from redis import Redis

from functions.config import Settings
from functions.core.clock import utcnow
from functions.core.enums import DesiredState, SessionStatus
from functions.core.errors import StorageUnavailable
from functions.core.models import Session
from functions.state.sessions import SessionRepository
from runner.auth_store import AuthStore
from runner.call_guard import CallGuard
from runner.engines.base import StatusChange, qr_png_data_url
from runner.events import emit_event
from runner.inbox import Inbox
from runner.leases import Lease, LeaseStore
from runner.stories import StoryInbox

log = logging.getLogger(__name__)

LOGGED_OUT_REASON = "logged out from the phone"
SETTLED_SNAPSHOT_SECONDS = 3.0
SNAPSHOT_FIRST_RETRY_SECONDS = 1.0
SNAPSHOT_MAX_RETRY_SECONDS = 30.0


class Reporter:
    """Turns engine reports into record updates and OpenWA events for one session."""

    def __init__(
        self,
        conn: Redis,
        settings: Settings,
        lease: Lease,
        *,
        repo: SessionRepository,
        leases: LeaseStore,
        auth: AuthStore,
        on_lost: Callable[[str], None],
        on_crashed: Callable[[str], None] | None = None,
    ) -> None:
        self._conn, self._settings, self._lease = conn, settings, lease
        self._repo, self._leases, self._auth = repo, leases, auth
        self._on_lost = on_lost  # asks the process to stop, with the reason
        self._on_crashed = on_crashed or on_lost  # asks the process to end as crashed (to be restarted)
        self.snapshot: Callable[[], Any] | None = None  # the engine's snapshot coroutine, set by the process
        self.inbox: Inbox | None = None  # records message events before they are published
        self.calls: CallGuard | None = None  # rejects ringing calls when the session's config says so
        self.stories: StoryInbox | None = None  # stores received stories before status.received
        self.status: SessionStatus | None = None
        self.closing = False  # after a logout nothing more is reported or stored
        self._announced = False
        self._settled_snapshot: asyncio.Future[None] | None = None
        self._snapshot_retry: asyncio.Future[None] | None = None

    @property
    def session_id(self) -> str:
        return self._lease.session_id

    def write(self, **fields: Any) -> bool:
        """Fenced update of the session record (blocking); False when the lease is no longer ours."""
        if not self._leases.holds(self._lease):
            self._on_lost("lease lost")
            return False
        return self._repo.update(self.session_id, **fields)

    def session(self) -> Session | None:
        return self._repo.get(self.session_id)

    def publish(self, event: str, data: dict[str, Any]) -> None:
        emit_event(self._conn, self._settings, self.session_id, event, {"sessionId": self.session_id, **data})

    async def on_status(self, change: StatusChange) -> None:
        if self.closing:
            return
        await asyncio.to_thread(self._apply, change)

    def _apply(self, change: StatusChange) -> None:
        self.status = change.status
        if not self.write(**_fields_for(change)):
            return
        self.publish("session.status", {"status": change.status.value})
        if change.status is SessionStatus.QR_READY and change.qr:
            self.publish("session.qr", {"qr": qr_png_data_url(change.qr)})
        elif change.status is SessionStatus.READY and not self._announced:
            # Once per process: a reconnect after a dropped link is `session.status` only.
            self._announced = True
            self.publish("session.authenticated", {"phone": change.phone, "pushName": change.push_name})
        elif change.status is SessionStatus.DISCONNECTED:
            self.publish("session.disconnected", {"reason": change.reason or "disconnected"})
        if change.reason == LOGGED_OUT_REASON:
            self.closing = True

    async def on_event(self, name: str, data: dict[str, Any]) -> None:
        if self.closing:
            return
        data = without_lone_surrogates(data)  # WhatsApp text may hold them; records and events cannot
        if name == "session.restriction":  # also shown on the session (`restriction`), as OpenWA does
            await asyncio.to_thread(self.write, restriction=data if data.get("active") else None)
        if self.inbox is not None and name.startswith("message."):
            recorded = await self.inbox.record(name, data)
            if recorded is None:  # already known: announced before
                return
            data = recorded
            if name == "message.ack" and data.get("ack") == -1:
                name = "message.failed"  # OpenWA's event for a message WhatsApp rejected
        if name == "status.received" and self.stories is not None:
            stored = await self.stories.record(data)
            if stored is None:  # already stored: announced before
                return
            data = stored
        await asyncio.to_thread(self.publish, name, data)
        if name == "call.received" and self.calls is not None:
            self.calls.on_call(data)

    async def on_credentials_changed(self) -> None:
        """Linked: store a snapshot now. Logged out from the phone: wipe them and stop the process."""
        if self.closing:
            await asyncio.to_thread(self._auth.wipe, self.session_id)
            self._on_lost("logged out")
        elif self.status is SessionStatus.READY:
            await self.store_snapshot()
            # And once more when the browser has flushed what linking wrote (localStorage lands on disk a
            # second or more after the write), so a failover right after linking needs no QR.
            self._settled_snapshot = asyncio.ensure_future(self._snapshot_after(SETTLED_SNAPSHOT_SECONDS))

    async def _snapshot_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.store_snapshot()

    async def store_snapshot(self) -> None:
        """`save_snapshot` now; if storage is down, again in the background with backoff until one is
        stored (each attempt takes a fresh snapshot), so credentials are never left unsaved until the next
        periodic snapshot. Never raises."""
        try:
            await self.save_snapshot()
        except StorageUnavailable as exc:
            log.warning(
                "session %s: auth snapshot not stored (storage down), retrying: %s", self.session_id, exc
            )
            if self._snapshot_retry is None or self._snapshot_retry.done():
                self._snapshot_retry = asyncio.ensure_future(self._retry_snapshot())
        except Exception:
            log.exception("session %s: auth snapshot failed", self.session_id)

    async def _retry_snapshot(self) -> None:
        delay = SNAPSHOT_FIRST_RETRY_SECONDS
        while not self.closing:
            await asyncio.sleep(delay)
            try:
                await self.save_snapshot()
                return
            except StorageUnavailable:
                delay = min(delay * 2, SNAPSHOT_MAX_RETRY_SECONDS)
            except Exception:  # not an outage: the periodic snapshot will try again
                log.exception("session %s: auth snapshot retry failed", self.session_id)
                return

    async def on_engine_lost(self, reason: str) -> None:
        """The browser died under the session: end the process as crashed, so that the supervisor starts the
        session again from its stored credentials (queued sends wait in Redis; WhatsApp redelivers what
        arrived meanwhile)."""
        log.warning("session %s: engine lost: %s", self.session_id, reason)
        self._on_crashed(reason)

    async def save_snapshot(self) -> None:
        """Store the engine's current credentials with the session's mirror (only while ready, still the
        lease holder, and the session still exists: a deleted session's storage must stay empty)."""
        if self.closing or self.status is not SessionStatus.READY or self.snapshot is None:
            return
        files = await self.snapshot()  # the engine's AuthFiles (path -> bytes)
        if await asyncio.to_thread(self._leases.holds, self._lease):
            session = await asyncio.to_thread(self.session)
            if session is None:
                return
            manifest = await asyncio.to_thread(self._auth.save, self.session_id, files, session=session)
            log.info("auth snapshot stored: %d files, %d bytes", len(manifest.files or {}), manifest.size)

    def fail(self, reason: str) -> None:
        """Terminal failure (blocking): status failed with `lastError`, as OpenWA's init rejection."""
        self.status = SessionStatus.FAILED
        if self.write(status=SessionStatus.FAILED, last_error=reason, qr=None):
            self.publish("session.status", {"status": SessionStatus.FAILED.value})


def without_lone_surrogates(value: Any) -> Any:
    """`value` with every lone UTF-16 surrogate in its strings (keys included) replaced by U+FFFD.

    A JavaScript string may hold half of a surrogate pair (a message cut inside an emoji), which Python
    receives as a lone surrogate that cannot be encoded as UTF-8: storing or publishing it would fail, and
    the message would be lost. Replaced, it is kept, as WhatsApp's own clients show it.
    """
    if isinstance(value, str):
        return (
            value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            if _has_surrogate(value)
            else value
        )
    if isinstance(value, dict):
        return {without_lone_surrogates(key): without_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    return value


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _fields_for(change: StatusChange) -> dict[str, Any]:
    """The record fields a status change sets."""
    fields: dict[str, Any] = {"status": change.status, **change.fields}
    if change.status is SessionStatus.QR_READY:
        fields.update(qr=change.qr, qr_updated_at=utcnow())
    elif change.status is SessionStatus.READY:
        now = utcnow()
        fields.update(qr=None, phone=change.phone, push_name=change.push_name, last_error=None)
        fields.update(connected_at=now, last_active_at=now)
    elif change.status is SessionStatus.DISCONNECTED:
        fields.update(qr=None)
        if change.reason == LOGGED_OUT_REASON:
            # OpenWA: a logout clears phone, so the session is no longer auto-started.
            fields.update(phone=None, push_name=None, desired_state=DesiredState.STOPPED)
    elif change.status is SessionStatus.ACTION_REQUIRED:
        fields.update(qr=None, last_error=change.reason)  # what the operator has to do
    else:
        fields.update(qr=None)
    return fields
