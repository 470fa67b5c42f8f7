"""Sending (DESIGN §1.2): assign the WhatsApp id, store a `pending` record, queue the send, answer at once.

The record, the send job and the Idempotency-Key answer are written in one Redis transaction, so a request
either leaves all three or none (a crash in between cannot leave a key that answers for a message that was
never queued). For a send due now that transaction also checks the session (exists, ready or may wait,
sends held before it), so the common send is one round trip and its hold decision cannot go stale.
Media is stored first, under `media/<sessionId>/<messageId>`: a failed commit leaves at most
an unreferenced blob, never a record pointing at missing bytes.

A send to a session that is not `ready` is refused (409 SESSION_NOT_READY) unless the request says
`"queue": true` (or is scheduled with `sendAt`): the message is then held (`<p>:session:<id>:holds`) and the
session process releases held messages, in order, once it is ready. While any are held, later sends are held
behind them, so the sends of one chat go out in the order they were accepted.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from redis import Redis
from redis.exceptions import WatchError

from functions.config import Settings
from functions.core import pacing
from functions.core.clock import iso, utcnow
from functions.core.enums import SessionStatus
from functions.core.errors import Conflict, DomainError, NotFound, TooManyRequests
from functions.core.messages import MEDIA_KINDS, Direction, MessageStatus, message_type, new_message_id
from functions.core.models import Session
from functions.queueing import enqueue_send, send_job
from functions.services import media as media_files
from functions.services.media_conversion import for_whatsapp
from functions.services.sessions import SessionNotFound
from functions.services.transcode import Transcoder
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys
from functions.state.messages import IdempotentAnswer, MessagePage, MessageRepository
from functions.state.pacing import PacingState
from functions.state.sessions import SessionRepository
from functions.storage import BlobStorage

_COMMIT_ATTEMPTS = 5


class SessionNotReady(Conflict):
    code, default_message = "SESSION_NOT_READY", "Session is not ready to send messages"


class TooManyHeldSends(TooManyRequests):
    code, default_message = (
        "TOO_MANY_HELD_SENDS",
        "Too many sends are held for this session until it is ready",
    )


class IdempotencyKeyReused(DomainError):
    status, code = 422, "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was used with a different request"


class MessageNotFound(NotFound):
    code, default_message = "MESSAGE_NOT_FOUND", "Message not found"


@dataclass(frozen=True)
class MediaSource:
    """Where a media send's bytes come from: exactly one of `url` and `base64`."""

    url: str | None
    base64: str | None
    mimetype: str | None
    filename: str | None


@dataclass(frozen=True)
class SendRequest:
    """One send, as validated by the route. `content["kind"]` says what it is (text, image, location...)."""

    session_id: str
    chat_id: str
    content: dict[str, Any]
    fingerprint: str
    idempotency_key: str | None = None
    media: MediaSource | None = None
    queue: bool = False
    send_at: datetime | None = None
    batch_id: str | None = None


def fingerprint(route: str, body: Mapping[str, Any]) -> str:
    """What makes two requests "the same" for an Idempotency-Key: the route and the body, canonically."""
    canonical = orjson.dumps({"route": route, "body": body}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


class MessageService:
    def __init__(
        self,
        settings: Settings,
        conn: Redis,
        keys: Keys,
        sessions: SessionRepository,
        messages: MessageRepository,
        storage: Callable[[], BlobStorage],
    ) -> None:
        self._settings, self._conn, self._keys = settings, conn, keys
        self._sessions, self._messages, self._storage = sessions, messages, storage
        self._pacing = PacingState(conn, keys)
        self._pacing_policy = pacing.PacingPolicy.from_settings(settings)
        self._media_limits = media_files.MediaLimits.from_settings(settings)
        self._transcoder = Transcoder(settings)

    def send(self, request: SendRequest) -> dict[str, Any]:
        """Accept a send: 201 body `{messageId, timestamp}`. Raises SessionNotFound, SessionNotReady,
        IdempotencyKeyReused, SendPacingLimited (429, see `check_pacing`; not for a send due later), and
        the media errors (InvalidMedia, MediaTooLarge, MediaUrlRefused, MediaConversionFailed...)."""
        due_now = request.send_at is None or request.send_at <= utcnow()
        if due_now and request.media is None and not self._pacing_policy.enabled:
            # The common case in one round trip: the commit itself checks the session (`_accept`).
            return self._accept(request, new_message_id(request.chat_id), dict(request.content))
        # Read first: pacing needs the session, and media is not fetched and stored for a send that an
        # earlier answer, a missing session or a session that cannot take it would refuse anyway.
        session = self._require_session(request.session_id)
        if request.idempotency_key:
            earlier = self._earlier_answer(request)
            if earlier is not None:
                return earlier
        if session.status is not SessionStatus.READY and not _may_hold(request):
            raise SessionNotReady(details={"status": session.status.value, "sessionId": session.id})
        if due_now:
            self.check_pacing(session, request.chat_id)
        message_id = new_message_id(request.chat_id)
        content = dict(request.content)
        if request.media is not None:
            content["media"] = self._store_media(request, message_id)
        if due_now:
            return self._accept(request, message_id, content)
        record = self._record(request, message_id, content, own=_own_id(session))
        answer = {"messageId": message_id, "timestamp": record["timestamp"]}
        self._schedule(request, record, answer)
        return answer

    def prepared(self, request: SendRequest) -> tuple[dict[str, Any], dict[str, Any]]:
        """For bulk sends: the record and answer of `request` without committing (media stored)."""
        session = self._require_session(request.session_id)
        message_id = new_message_id(request.chat_id)
        content = dict(request.content)
        if request.media is not None:
            content["media"] = self._store_media(request, message_id)
        record = self._record(request, message_id, content, own=_own_id(session))
        return record, {"messageId": message_id, "timestamp": record["timestamp"]}

    def check_pacing(self, session: Session, chat_id: str | None = None) -> None:
        """Refuse now (429 SEND_PACING_LIMITED) a send the session process would refuse anyway: breaker
        open, daily allowance spent, or (with `chat_id`) a new conversation over the cold cap. One round
        trip; what only the send itself can tell (sends still queued) is left to the session process."""
        if not self._pacing_policy.enabled:
            return
        counts = self._pacing.read(session.id, phone=session.phone, chat_id=chat_id)
        cold = chat_id is not None and pacing.is_reachable_contact(chat_id) and not counts.chat_known
        refusal = pacing.check(self._pacing_policy, counts, utcnow(), cold=cold)
        if refusal is not None:
            raise refusal.error()

    def _require_session(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(details={"sessionId": session_id})
        return session

    def _idempotency_key(self, request: SendRequest) -> str:
        digest = hashlib.sha256(str(request.idempotency_key).encode()).hexdigest()
        return self._keys.idempotency(request.session_id, digest)

    def _earlier_answer(self, request: SendRequest) -> dict[str, Any] | None:
        with translate_redis_errors():
            raw = self._conn.get(self._idempotency_key(request))
        return self._replay(raw, request) if raw else None

    @staticmethod
    def _replay(raw: bytes | str, request: SendRequest) -> dict[str, Any]:
        stored = orjson.loads(raw)
        if stored["fingerprint"] != request.fingerprint:
            raise IdempotencyKeyReused(details={"idempotencyKey": request.idempotency_key})
        return dict(stored["answer"])

    def _store_media(self, request: SendRequest, message_id: str) -> dict[str, Any]:
        source = request.media
        assert source is not None
        if source.base64 is not None:
            file = media_files.from_base64(
                source.base64, source.mimetype, source.filename, self._media_limits
            )
        else:
            assert source.url is not None
            file = media_files.from_url(source.url, source.mimetype, source.filename, self._media_limits)
        kind = str(request.content["kind"])
        file = for_whatsapp(kind, file, self._transcoder)  # before storing: a 422 here sends nothing
        filename = file.filename or media_files.default_filename(kind, file.mimetype)
        key = media_key(request.session_id, message_id)
        self._storage().put(key, file.data, content_type=file.mimetype)
        return {"key": key, "mimetype": file.mimetype, "filename": filename, "size": len(file.data)}

    def _record(
        self, request: SendRequest, message_id: str, content: dict[str, Any], *, own: str | None
    ) -> dict[str, Any]:
        now = utcnow()
        media = content.get("media")
        return {
            "id": message_id,
            "waMessageId": message_id,
            "sessionId": request.session_id,
            "chatId": request.chat_id,
            "from": own,
            "to": request.chat_id,
            "body": content.get("text") or content.get("caption") or "",
            "type": message_type(content),
            "direction": Direction.OUTGOING.value,
            "fromMe": True,
            "isGroup": request.chat_id.endswith("@g.us"),
            "timestamp": int(request.send_at.timestamp()) if request.send_at else int(time.time()),
            "status": MessageStatus.PENDING.value,
            "ack": 0,
            "hasMedia": content.get("kind") in MEDIA_KINDS,
            "mediaPath": media["key"] if media else None,
            "mediaMimetype": media["mimetype"] if media else None,
            "metadata": _metadata(content),
            "error": None,
            "batchId": request.batch_id,
            "content": content,
            "createdAt": iso(now),
            "updatedAt": iso(now),
        }

    def _accept(self, request: SendRequest, message_id: str, content: dict[str, Any]) -> dict[str, Any]:
        """Commit a send due now in one atomic command that also checks its session (`accept`): the record,
        its job or its place on the hold list, and the Idempotency-Key answer, all or nothing. A concurrent
        request with the same key that commits first wins, and this one answers with its result."""
        record = self._record(request, message_id, content, own=None)  # `from`: set by the commit
        answer = {"messageId": message_id, "timestamp": record["timestamp"]}
        idempotency = None
        if request.idempotency_key:
            stored = orjson.dumps({"fingerprint": request.fingerprint, "answer": answer})
            ttl = self._settings.idempotency_ttl_hours * 3600
            idempotency = IdempotentAnswer(self._idempotency_key(request), stored, ttl)
        job = send_job(request.session_id, message_id)
        done = self._messages.accept(record, job=job, may_hold=_may_hold(request), idempotency=idempotency)
        if done.outcome == "missing":
            raise SessionNotFound(details={"sessionId": request.session_id})
        if done.outcome == "earlier":
            assert done.earlier is not None
            return self._replay(done.earlier, request)
        if done.outcome == "not_ready":
            raise SessionNotReady(details={"status": done.status, "sessionId": request.session_id})
        if done.outcome == "too_many_held":
            limit = self._settings.max_held_sends_per_session
            raise TooManyHeldSends(
                retry_after_seconds=60,
                details={
                    "sessionId": request.session_id,
                    "limit": limit,
                    "setting": "MAX_HELD_SENDS_PER_SESSION",
                },
            )
        return answer

    def _schedule(self, request: SendRequest, record: dict[str, Any], answer: dict[str, Any]) -> None:
        """Commit a send due later: the record and its scheduled job (RQ's scheduled registry), and the
        Idempotency-Key answer, all or nothing (WATCH on the key: a concurrent request with the same key
        that commits first wins, and this one then answers with its result)."""
        idem_key = self._idempotency_key(request) if request.idempotency_key else None
        stored = orjson.dumps({"fingerprint": request.fingerprint, "answer": answer})
        with translate_redis_errors():
            for _ in range(_COMMIT_ATTEMPTS):
                with self._conn.pipeline(transaction=True) as pipe:
                    try:
                        if idem_key:
                            pipe.watch(idem_key)  # type: ignore[no-untyped-call]
                            earlier = pipe.get(idem_key)
                            if earlier:
                                answer.clear()
                                answer.update(self._replay(earlier, request))
                                return
                            pipe.multi()
                            pipe.set(idem_key, stored, ex=self._settings.idempotency_ttl_hours * 3600)
                        self.queue_writes(record, pipe, send_at=request.send_at)
                        pipe.execute()
                        return
                    except WatchError:
                        continue
        raise Conflict("Too many concurrent requests with this Idempotency-Key")

    def queue_writes(self, record: dict[str, Any], pipe: Any, *, send_at: datetime | None = None) -> None:
        """Queue on `pipe` the writes that make `record` a pending send: the record and its job, due at
        `send_at` (now when None). A job that falls due while the session is not ready is held then."""
        self._messages.create(record, pipeline=pipe)
        session_id, message_id = str(record["sessionId"]), str(record["id"])
        enqueue_send(self._conn, session_id, message_id, pipeline=pipe, send_at=send_at)

    # Reading

    def get(self, session_id: str, message_id: str, *, chat_id: str | None = None) -> dict[str, Any]:
        """A stored message; with `chat_id`, only if it belongs to that chat. MessageNotFound otherwise."""
        record = self._messages.get(session_id, message_id)
        if record is None or (chat_id is not None and record.get("chatId") != chat_id):
            raise MessageNotFound(details={"messageId": message_id})
        return record

    def page(
        self, session_id: str, *, chat_id: str | None, sender: str | None, limit: int, offset: int
    ) -> MessagePage:
        self._require_session(session_id)
        return self._messages.page(session_id, chat_id=chat_id, sender=sender, limit=limit, offset=offset)

    def media(self, session_id: str, chat_id: str, message_id: str) -> tuple[bytes, str, str | None]:
        """The stored bytes of a message's media, its type and file name. MessageNotFound when none."""
        record = self.get(session_id, message_id, chat_id=chat_id)
        key = record.get("mediaPath")
        if not key:
            raise MessageNotFound("This message has no stored media", details={"messageId": message_id})
        data = self._storage().get(str(key))
        filename = (record.get("metadata") or {}).get("media", {}).get("filename")
        return data, str(record.get("mediaMimetype") or "application/octet-stream"), filename


def _may_hold(request: SendRequest) -> bool:
    """Whether a session that is not ready may take the send, to send once ready: queued or scheduled."""
    return request.queue or request.send_at is not None


def _own_id(session: Session) -> str | None:
    """The session's own WhatsApp id (outbound records' `from`), once an account is linked."""
    return f"{session.phone}@c.us" if session.phone else None


def media_key(session_id: str, message_id: str) -> str:
    """Where a message's media bytes live in storage (DESIGN §1.5)."""
    return f"media/{session_id}/{message_id}"


def _metadata(content: Mapping[str, Any]) -> dict[str, Any] | None:
    """OpenWA's `metadata`: what the message carries besides its body."""
    meta: dict[str, Any] = {}
    for name in ("caption", "quotedMessageId", "mentions", "location", "contact", "poll", "linkPreview"):
        if content.get(name) not in (None, [], ""):
            meta[name] = content[name]
    media = content.get("media")
    if media:
        meta["media"] = {k: media[k] for k in ("mimetype", "filename", "size")}
    if content.get("kind") == "ptt":
        meta["ptt"] = True
    if content.get("kind") == "forward":
        meta["forwardedFrom"] = content.get("forwardId")
    return meta or None
