"""Bulk sends (OpenWA's `send-bulk`, `GET .../batch/{id}`, `POST .../batch/{id}/cancel`).

A batch is accepted whole or not at all: every message gets its record (`pending`, `batchId` set) and its
send job, due at its own time (`delayBetweenMessages` apart, plus 0-2 s with `randomizeDelay`), in the same
Redis transaction as the batch itself. Nothing runs in the API process afterwards, so a batch survives any
process dying: the jobs wait in RQ's scheduled registry, and the session process sends each when it is due.
Cancelling marks the batch and fails its pending messages (`BATCH_CANCELLED`); a job that comes up later
skips its message. Progress is derived from the messages (`functions.core.batches`).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from redis import Redis
from redis.exceptions import WatchError

from functions.core import batches as rules
from functions.core.batches import BATCH_CANCELLED, BatchStatus
from functions.core.clock import iso, utcnow
from functions.core.enums import SessionStatus
from functions.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from functions.core.models import Session
from functions.core.templates import TemplateNotFound, render
from functions.services.messages import MediaSource, MessageService, SendRequest, SessionNotReady
from functions.services.sessions import SessionNotFound
from functions.state.batches import BatchRepository
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys
from functions.state.messages import MessageRepository
from functions.state.sessions import SessionRepository
from functions.state.templates import TemplateRepository

MAX_TEXT = 4096
MAX_CAPTION = 1024
_COMMIT_ATTEMPTS = 5


class BatchNotFound(NotFound):
    code, default_message = "BATCH_NOT_FOUND", "Batch not found"


class BatchAlreadyExists(Conflict):
    code, default_message = "BATCH_ALREADY_EXISTS", "A batch with this batchId already exists"


class BatchNotCancellable(DomainError):
    """OpenWA answers 400 for cancelling a batch that already ended."""

    status, code, default_message = 400, "BATCH_NOT_CANCELLABLE", "The batch has already ended"


def bulk_content(
    item: Mapping[str, Any], template: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, Any], MediaSource | None]:
    """A validated bulk item as a send: chat id, content (variables substituted, or `template` rendered with
    them) and media source. Raises TemplateVariableMissing, RenderedTooLong and ValidationFailed."""
    variables = item.get("variables") or {}
    kind, given = str(item["type"]), rules.substitute(item["content"], variables)
    if template is not None:
        given["text"] = render(template["body"], template.get("header"), template.get("footer"), variables)
    extras = {name: given[name] for name in ("caption", "mentions") if given.get(name)}
    if kind == "text":
        content, media = {"kind": "text", "text": given["text"], **extras}, None
    else:
        source = given[kind]
        kind = "ptt" if kind == "audio" and source.get("ptt") else kind
        extras = {} if kind in ("audio", "ptt") else extras  # WhatsApp has no caption on audio
        content = {"kind": kind, **extras}
        media = MediaSource(*(source.get(name) for name in ("url", "base64", "mimetype", "filename")))
    _check_lengths(content)
    return str(item["chatId"]), content, media


def _check_lengths(content: Mapping[str, Any]) -> None:
    """What variables made too long (the schema checked the text as written)."""
    for name, limit in (("text", MAX_TEXT), ("caption", MAX_CAPTION)):
        if len(str(content.get(name) or "")) > limit:
            problem = f"longer than {limit} characters once variables are substituted"
            raise ValidationFailed(f"content.{name}: {problem}", details={"fields": {name: [problem]}})


class BulkService:
    def __init__(
        self,
        conn: Redis,
        keys: Keys,
        sessions: SessionRepository,
        messages: MessageService,
        message_records: MessageRepository,
        batches: BatchRepository,
        templates: TemplateRepository,
        *,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._conn, self._keys, self._sessions = conn, keys, sessions
        self._messages, self._records, self._batches, self._rand = messages, message_records, batches, rand
        self._templates = templates

    def create(self, session_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Accept a batch: 202 envelope. Raises SessionNotFound, SessionNotReady, SendPacingLimited (breaker
        open, daily allowance spent), BatchAlreadyExists, ValidationFailed, the media errors, and for items
        naming a template TemplateNotFound, TemplateVariableMissing and RenderedTooLong (each with the item's
        `index` in its details; the batch is refused whole)."""
        session = self._ready_session(session_id)
        self._messages.check_pacing(session)
        batch_id = str(body.get("batchId") or f"batch_{secrets.token_hex(4)}")
        if self._batches.exists(session_id, batch_id):
            raise BatchAlreadyExists(details={"batchId": batch_id})
        options = _options(body.get("options") or {})
        items = list(body["messages"])
        start = utcnow()
        offsets = rules.send_offsets(
            len(items), options["delayBetweenMessages"], options["randomizeDelay"], self._rand
        )
        planned: list[tuple[dict[str, Any], datetime | None]] = []
        templates = _TemplateLookup(self._templates, session_id)
        for index, (item, offset) in enumerate(zip(items, offsets, strict=True)):
            try:
                chat_id, content, media = bulk_content(item, templates.of(item["content"]))
            except DomainError as error:
                error.details = {**(error.details or {}), "index": index}
                raise
            send_at = start + timedelta(seconds=offset) if offset else None
            request = SendRequest(
                session_id, chat_id, content, "", media=media, send_at=send_at, batch_id=batch_id
            )
            planned.append((self._messages.prepared(request)[0], send_at))
        finish = start + timedelta(seconds=offsets[-1])
        batch = {
            "batchId": batch_id,
            "sessionId": session_id,
            "status": BatchStatus.PENDING.value,
            "options": options,
            "messageIds": [record["id"] for record, _ in planned],
            "chatIds": [record["chatId"] for record, _ in planned],
            "createdAt": iso(start),
            "startedAt": iso(start),
            "estimatedCompletionTime": iso(finish),
            "completedAt": None,
        }
        self._commit(batch, planned)
        return {
            "batchId": batch_id,
            "status": BatchStatus.PENDING.value,
            "totalMessages": len(planned),
            "estimatedCompletionTime": iso(finish),
            "statusUrl": f"/api/sessions/{session_id}/messages/batch/{batch_id}",
        }

    def status(self, session_id: str, batch_id: str) -> dict[str, Any]:
        """OpenWA's BatchStatusResponse. Raises BatchNotFound."""
        batch = self._batches.get(session_id, batch_id)
        if batch is None:
            raise BatchNotFound(details={"batchId": batch_id})
        return rules.summarize(batch, self._records.get_many(session_id, list(batch["messageIds"])))

    def cancel(self, session_id: str, batch_id: str) -> dict[str, Any]:
        """Cancel a running batch: `{batchId, status, progress}`. Raises BatchNotFound and
        BatchNotCancellable."""
        summary = self.status(session_id, batch_id)
        if summary["status"] in rules.FINISHED or not self._batches.stop(
            session_id, batch_id, BatchStatus.CANCELLED, BATCH_CANCELLED
        ):
            raise BatchNotCancellable(details={"batchId": batch_id, "status": summary["status"]})
        summary = self.status(session_id, batch_id)
        return {name: summary[name] for name in ("batchId", "status", "progress")}

    def _ready_session(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(details={"sessionId": session_id})
        if session.status is not SessionStatus.READY:
            raise SessionNotReady(details={"status": session.status.value, "sessionId": session.id})
        return session

    def _commit(self, batch: dict[str, Any], planned: list[tuple[dict[str, Any], datetime | None]]) -> None:
        """The batch, its records and their jobs in one transaction; the batch id is claimed by it."""
        key = self._batches.key(str(batch["sessionId"]), str(batch["batchId"]))
        with translate_redis_errors(), self._conn.pipeline(transaction=True) as pipe:
            for _ in range(_COMMIT_ATTEMPTS):
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    if pipe.exists(key):
                        raise BatchAlreadyExists(details={"batchId": batch["batchId"]})
                    pipe.multi()
                    self._batches.create(batch, pipeline=pipe)
                    for record, send_at in planned:
                        self._messages.queue_writes(record, pipe, send_at=send_at)
                    pipe.execute()
                    return
                except WatchError:
                    continue
        raise Conflict("Too many concurrent requests for this batchId")


class _TemplateLookup:
    """The templates a batch's items name, each read from Redis once per batch."""

    def __init__(self, templates: TemplateRepository, session_id: str) -> None:
        self._templates, self._session_id = templates, session_id
        self._seen: dict[tuple[str, str], dict[str, Any] | None] = {}

    def of(self, content: Mapping[str, Any]) -> dict[str, Any] | None:
        """The template `content` names by `templateId` or `templateName`, None when it names none.
        Raises TemplateNotFound."""
        by = (
            "templateId" if "templateId" in content else "templateName" if "templateName" in content else None
        )
        if by is None:
            return None
        ref = (by, str(content[by]))
        if ref not in self._seen:
            read = self._templates.get if by == "templateId" else self._templates.find_by_name
            self._seen[ref] = read(self._session_id, ref[1])
        template = self._seen[ref]
        if template is None:
            raise TemplateNotFound(details={by: ref[1]})
        return template


def _options(given: Mapping[str, Any]) -> dict[str, Any]:
    """OpenWA's defaults: 3 s between messages, randomized, not stopping on an error."""
    return {
        "delayBetweenMessages": int(given.get("delayBetweenMessages", rules.DEFAULT_DELAY_MS)),
        "randomizeDelay": bool(given.get("randomizeDelay", True)),
        "stopOnError": bool(given.get("stopOnError", False)),
    }
