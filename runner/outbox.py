"""The session process's side of sending: run a stored send, and release sends held for readiness.

A send job carries only ids (DESIGN §3.4): the message record holds what to send. The job is idempotent:
a record that is no longer `pending` is skipped, and the engine does not re-send a message id WhatsApp
already has, so a job re-run after a crash or a failover sends at most once. A send that WhatsApp (or
the browser) refuses ends the message `failed` with the reason, and `message.failed` is published — the job
itself finishes, since retrying a refusal blindly is what gets numbers banned.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from redis import Redis

from functions.core.enums import SessionStatus
from functions.core.messages import MEDIA_KINDS, STATUS_RANK, MessageStatus, status_for_ack
from functions.queueing import enqueue_send
from functions.state.messages import MessageRepository
from functions.storage import BlobStorage
from runner.counters import MessageCounters
from runner.engines.base import Engine, EngineError

log = logging.getLogger(__name__)
Run = Callable[[Coroutine[Any, Any, Any], float], Any]


def sent_event(record: dict[str, Any], message_id: str) -> dict[str, Any]:
    """OpenWA's `message.sent` data for a message we sent."""
    return {
        "id": message_id,
        "chatId": record["chatId"],
        "from": record.get("from"),
        "to": record["to"],
        "body": record.get("body") or "",
        "type": record["type"],
        "timestamp": record["timestamp"],
        "isGroup": bool(record.get("isGroup")),
        "fromMe": True,
        "hasMedia": bool(record.get("hasMedia")),
        "ack": record.get("ack", 1),
        **({"metadata": record["metadata"]} if record.get("metadata") else {}),
    }


class Outbox:
    """Sends the session's stored messages through its engine (called from jobs, on the main thread)."""

    def __init__(
        self,
        conn: Redis,
        session_id: str,
        repo: MessageRepository,
        storage: BlobStorage,
        *,
        engine: Engine,
        run: Run,
        status: Callable[[], SessionStatus | None],
        publish: Callable[[str, dict[str, Any]], None],
        timeout: float,
        counters: MessageCounters | None = None,
    ) -> None:
        self._conn, self._session_id, self._repo, self._storage = conn, session_id, repo, storage
        self._engine, self._run, self._status, self._publish = engine, run, status, publish
        self._timeout = timeout
        self._counters = counters

    def send(self, message_id: str) -> dict[str, Any]:
        """Send stored message `message_id` unless it is no longer pending. Returns what happened."""
        record = self._repo.get(self._session_id, message_id)
        if record is None:
            return {"skipped": "no such message (expired or deleted)"}
        if record["status"] != MessageStatus.PENDING.value:
            return {"skipped": f"already {record['status']}"}
        if self._status() is not SessionStatus.READY:
            self._repo.hold(self._session_id, message_id)
            return {"held": True}
        try:
            content = self._engine_content(record)
            sent = self._run(self._engine.send_message(record["chatId"], content, message_id), self._timeout)
        except EngineError as exc:
            return self._failed(record, message_id, str(exc))
        status = max(MessageStatus.SENT, status_for_ack(sent.ack), key=STATUS_RANK.__getitem__)
        advanced = self._repo.advance(self._session_id, message_id, status, ack=max(sent.ack, 1))
        # Announced once: by the run that sent it (an ack may already have moved the record past `sent`),
        # or by a re-run that finds it sent but never recorded (the first run died in between).
        if not sent.existed or advanced == 1:
            record.update(status=status.value, ack=max(sent.ack, 1))
            self._publish("message.sent", sent_event(record, message_id))
            if self._counters is not None:
                self._counters.sent(record)
        return {"id": message_id, "ack": sent.ack}

    def _engine_content(self, record: dict[str, Any]) -> dict[str, Any]:
        """The stored content, with media bytes loaded from storage for the page."""
        content = dict(record["content"])
        if content.get("kind") in MEDIA_KINDS:
            media = dict(content["media"])
            media["base64"] = base64.b64encode(self._storage.get(media["key"])).decode()
            content["media"] = media
        return content

    def _failed(self, record: dict[str, Any], message_id: str, reason: str) -> dict[str, Any]:
        error = {"code": "SEND_FAILED", "message": reason}
        if self._repo.advance(self._session_id, message_id, MessageStatus.FAILED, ack=-1, error=error) == 1:
            data = {**sent_event(record, message_id), "status": "failed", "ack": -1, "error": error}
            self._publish("message.failed", data)
            if self._counters is not None:
                self._counters.failed()
        log.warning("session %s: message %s failed: %s", self._session_id, message_id, reason)
        return {"id": message_id, "failed": reason}

    def release_held(self) -> int:
        """Queue every held send, oldest first (the session is ready). Returns how many."""
        held = self._repo.take_held(self._session_id)
        if held:
            with self._conn.pipeline(transaction=True) as pipe:
                for message_id in held:
                    enqueue_send(self._conn, self._session_id, message_id, pipeline=pipe)
                pipe.execute()
        return len(held)
