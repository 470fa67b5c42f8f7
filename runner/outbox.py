"""The session process's side of sending: run a stored send, and release sends held for readiness.

A send job carries only ids (DESIGN §3.4): the message record holds what to send. The job is idempotent:
a record that is no longer `pending` is skipped, and the engine does not re-send a message id WhatsApp
already has, so a job re-run after a crash or a failover sends at most once. The record counts its
hand-overs to the engine (`sendAttempts`, before each): on the first, the id (ours, random) cannot be known
to WhatsApp yet, so the engine skips looking for it — one round trip to WhatsApp less per send.

A send that WhatsApp (or the browser) refuses ends the message `failed` with the reason, and
`message.failed` is published — the job itself finishes, since retrying a refusal blindly is what gets
numbers banned.

Before a send, send pacing (`runner.pacing`) may refuse it (the message ends `failed` with error code
SEND_PACING_LIMITED) or show "typing…" first; a message of a cancelled or stopped bulk batch is skipped
(failed with BATCH_CANCELLED / BATCH_STOPPED), and a failure stops a batch sent with `stopOnError`.

Order: a send that finds the session not ready is held (`release_held` queues the held ones again once it
is), but one taken while the engine is still starting waits for it instead: after a failover the new holder
takes the queue's oldest sends at once, and holding them would put them behind sends accepted later. A send
taken while others are held is held too, however ready the session is, and releases them all: sent at
once it would overtake the held sends that were taken off the queue before it. The release runs only
between jobs (this job, or the `release_held` job the session process puts at the queue's front), never
beside one: a send already taken off the queue but not yet here would overtake what the release puts back.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from redis import Redis
from redis.client import Pipeline

from functions.core.batches import BATCH_CANCELLED, BATCH_STOPPED, BatchStatus
from functions.core.clock import iso, utcnow
from functions.core.enums import SessionStatus
from functions.core.messages import MEDIA_KINDS, STATUS_RANK, MessageStatus, status_for_ack
from functions.core.pacing import Refusal
from functions.queueing import enqueue_send
from functions.state.batches import BatchRepository
from functions.state.messages import MessageRepository
from functions.storage import BlobStorage
from runner.counters import MessageCounters
from runner.engines.base import Engine, EngineError, SentMessage
from runner.pacing import Admitted, Pacer

log = logging.getLogger(__name__)
Run = Callable[[Coroutine[Any, Any, Any], float], Any]
# The engine has not said yet whether the session is ready (None: nothing reported since the process began).
_STARTING = frozenset({None, SessionStatus.INITIALIZING, SessionStatus.AUTHENTICATING})
SETTLE_POLL_SECONDS = 0.02


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
        media_timeout: float | None = None,
        counters: MessageCounters | None = None,
        pacer: Pacer | None = None,
        batches: BatchRepository | None = None,
    ) -> None:
        self._conn, self._session_id, self._repo, self._storage = conn, session_id, repo, storage
        self._engine, self._run, self._status, self._publish = engine, run, status, publish
        self._timeout = timeout
        self._media_timeout = media_timeout or timeout  # a media send's deadline (upload included)
        self._counters = counters
        self._pacer, self._batches = pacer, batches

    def send(self, message_id: str) -> dict[str, Any]:
        """Send stored message `message_id` unless it is no longer pending. Returns what happened."""
        record = self._repo.get(self._session_id, message_id)
        if record is None:
            return {"skipped": "no such message (expired or deleted)"}
        if record["status"] != MessageStatus.PENDING.value:
            return {"skipped": f"already {record['status']}"}
        if (ended := self._batch_ended(record, message_id)) is not None:
            return {"skipped": f"its batch is {ended}"}
        if self.settled_status() is not SessionStatus.READY:
            self._repo.hold(self._session_id, message_id)
            return {"held": True}
        if self._repo.held_count(self._session_id):
            self._repo.hold(self._session_id, message_id)
            return {"held": True, "released": self._release()}
        admitted = self._pacer.admit(record) if self._pacer is not None else Admitted()
        if isinstance(admitted, Refusal):
            return self._failed(record, message_id, admitted.as_error())
        if self._pacer is not None:
            self._pacer.simulate_typing(record)
        try:
            content = self._engine_content(record)
            # Counted before the hand-over: a process dying mid-send leaves a count > 1 for the re-run,
            # which then has the engine look for the id first.
            first = self._repo.count_send_attempt(self._session_id, message_id) == 1
            send = self._engine.send_message(record["chatId"], content, message_id, first_attempt=first)
            sent = self._run(
                send, self._media_timeout if content.get("kind") in MEDIA_KINDS else self._timeout
            )
        except EngineError as exc:
            if self._pacer is not None:
                self._pacer.failed()
            return self._failed(record, message_id, {"code": "SEND_FAILED", "message": str(exc)})
        return self._sent(record, message_id, sent, admitted)

    def _sent(
        self, record: dict[str, Any], message_id: str, sent: SentMessage, admitted: Admitted
    ) -> dict[str, Any]:
        status = max(MessageStatus.SENT, status_for_ack(sent.ack), key=STATUS_RANK.__getitem__)
        now = iso(utcnow())
        # WhatsApp's own key (its remote may be the chat's @lid, a group's carries our participant); the
        # record keeps our id, which SDK users hold.
        wa_id = {"waMessageId": sent.id} if sent.id else {}
        advanced = self._repo.advance(
            self._session_id, message_id, status, ack=max(sent.ack, 1), sentAt=now, updatedAt=now, **wa_id
        )
        if advanced == 0 and not sent.existed:  # an ack got there first: the send time is still ours
            self._repo.update(self._session_id, message_id, sentAt=now, updatedAt=now, **wa_id)
        # Announced once: by the run that sent it (an ack may already have moved the record past `sent`),
        # or by a re-run that finds it sent but never recorded (the first run died in between).
        if not sent.existed or advanced == 1:
            record.update(status=status.value, ack=max(sent.ack, 1))
            self._publish("message.sent", sent_event(record, message_id))
            if self._counters is not None:
                self._counters.sent(record)
            if self._pacer is not None:
                self._pacer.sent(record, admitted)
        return {"id": message_id, "ack": sent.ack}

    def _batch_ended(self, record: dict[str, Any], message_id: str) -> str | None:
        """The status of the cancelled or stopped batch this message belongs to (failing the message), or
        None to go on: a job that comes up after its batch ended never sends."""
        batch_id = record.get("batchId")
        if not batch_id or self._batches is None:
            return None
        status, _ = self._batches.control(self._session_id, str(batch_id))
        if status not in (BatchStatus.CANCELLED, BatchStatus.FAILED):
            return None
        code = BATCH_CANCELLED if status == BatchStatus.CANCELLED else BATCH_STOPPED
        self._batches.skip(self._session_id, message_id, code)
        return status

    def settled_status(self) -> SessionStatus | None:
        """The session's status once the engine is past starting up. A job taken while the page is still
        loading or authenticating (a new holder right after a failover) waits for it, up to the send
        timeout: holding the message instead would queue it again behind sends accepted after it."""
        deadline = time.monotonic() + self._timeout
        while (status := self._status()) in _STARTING and time.monotonic() < deadline:
            time.sleep(SETTLE_POLL_SECONDS)
        return status

    def _engine_content(self, record: dict[str, Any]) -> dict[str, Any]:
        """The stored content, with media bytes loaded from storage for the page."""
        content = dict(record["content"])
        if content.get("kind") in MEDIA_KINDS:
            media = dict(content["media"])
            media["base64"] = base64.b64encode(self._storage.get(media["key"])).decode()
            content["media"] = media
        return content

    def _failed(self, record: dict[str, Any], message_id: str, error: dict[str, Any]) -> dict[str, Any]:
        """End the message `failed` with `error` (`{code, message...}`), announce it, and stop its batch if
        that batch stops at a failure."""
        now = iso(utcnow())
        failed = MessageStatus.FAILED
        if self._repo.advance(self._session_id, message_id, failed, ack=-1, error=error, updatedAt=now) == 1:
            data = {**sent_event(record, message_id), "status": "failed", "ack": -1, "error": error}
            self._publish("message.failed", data)
            if self._counters is not None:
                self._counters.failed()
        log.warning("session %s: message %s failed: %s", self._session_id, message_id, error["message"])
        batch_id = record.get("batchId")
        if batch_id and self._batches is not None and self._batches.control(self._session_id, batch_id)[1]:
            self._batches.stop(self._session_id, str(batch_id), BatchStatus.FAILED, BATCH_STOPPED)
        return {"id": message_id, "failed": error["message"]}

    def release_held(self) -> int:
        """Queue every held send in its place (`MessageRepository.release_held`), once the session is
        ready; to be called between jobs (see the module's docstring). Returns how many."""
        if self.settled_status() is not SessionStatus.READY:
            return 0
        return self._release()

    def _release(self) -> int:
        def enqueue(message_id: str, pipe: Pipeline, at_front: bool) -> None:
            enqueue_send(self._conn, self._session_id, message_id, pipeline=pipe, at_front=at_front)

        return self._repo.release_held(self._session_id, enqueue)
