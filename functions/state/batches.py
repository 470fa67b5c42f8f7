"""Bulk batches in Redis: one hash per batch (`<p>:batch:<sid>:<batchId>`, each field a JSON value), kept as
long as message records (`MESSAGE_RETENTION_DAYS`).

Fields: batchId, sessionId, status (`pending`, or `cancelled`/`failed` once cancelled or stopped by a failure;
`functions.core.batches` derives the rest from the messages), options, messageIds and chatIds (batch order),
createdAt, startedAt, estimatedCompletionTime, completedAt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from redis import Redis
from redis.client import Pipeline

from functions.core.batches import BATCH_CANCELLED, BatchStatus
from functions.core.clock import iso, utcnow
from functions.core.messages import MessageStatus
from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys
from functions.state.messages import MessageRepository

# KEYS[1] batch. ARGV[1] JSON status, ARGV[2] JSON completedAt. Ends a batch that is still running: 1, else 0.
_FINISH = """
if redis.call('HGET', KEYS[1], 'status') ~= '"pending"' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'completedAt', ARGV[2])
return 1
"""
_MESSAGES = {
    BATCH_CANCELLED: "The batch was cancelled before this message was sent",
}
_STOPPED_MESSAGE = "The batch stopped at an earlier message's failure (stopOnError)"


class BatchRepository:
    def __init__(
        self, conn: Redis, keys: Keys, messages: MessageRepository, *, retention_seconds: int
    ) -> None:
        self._conn, self._keys, self._messages, self._retention = conn, keys, messages, retention_seconds
        self._finish = conn.register_script(_FINISH)

    def key(self, session_id: str, batch_id: str) -> str:
        return self._keys.batch(session_id, batch_id)

    def exists(self, session_id: str, batch_id: str) -> bool:
        with translate_redis_errors():
            return bool(self._conn.exists(self.key(session_id, batch_id)))

    def create(self, batch: Mapping[str, Any], *, pipeline: Pipeline) -> None:
        """Queue the writes of a new batch on `pipeline` (executed by the caller with its messages)."""
        key = self.key(str(batch["sessionId"]), str(batch["batchId"]))
        pipeline.hset(key, mapping={name: orjson.dumps(value) for name, value in batch.items()})
        pipeline.expire(key, self._retention)

    def get(self, session_id: str, batch_id: str) -> dict[str, Any] | None:
        with translate_redis_errors():
            raw = self._conn.hgetall(self.key(session_id, batch_id))
        return {text(name): orjson.loads(value) for name, value in raw.items()} if raw else None

    def control(self, session_id: str, batch_id: str) -> tuple[str | None, bool]:
        """What the session process checks before and after each of the batch's sends: its stored status
        and whether a failure stops it (`stopOnError`)."""
        with translate_redis_errors():
            status, options = self._conn.hmget(self.key(session_id, batch_id), ["status", "options"])
        stop = bool(orjson.loads(options).get("stopOnError")) if options else False
        return (orjson.loads(status) if status else None), stop

    def stop(self, session_id: str, batch_id: str, status: BatchStatus, code: str) -> bool:
        """End a running batch as `status` (cancelled, or failed by stopOnError) and fail its messages still
        pending with error `code`; a message being sent meanwhile still ends sent. False if it had ended."""
        now = iso(utcnow())
        key = self.key(session_id, batch_id)
        with translate_redis_errors():
            if not self._finish(keys=[key], args=[orjson.dumps(status.value), orjson.dumps(now)]):
                return False
            raw = self._conn.hget(key, "messageIds")
        error = {"code": code, "message": _MESSAGES.get(code, _STOPPED_MESSAGE)}
        for message_id in orjson.loads(raw) if raw else []:
            self._messages.advance(session_id, message_id, MessageStatus.FAILED, error=error, updatedAt=now)
        return True

    def skip(self, session_id: str, message_id: str, code: str) -> None:
        """Fail one pending message of an ended batch (its job came up after the batch was stopped)."""
        error = {"code": code, "message": _MESSAGES.get(code, _STOPPED_MESSAGE)}
        now = iso(utcnow())
        self._messages.advance(session_id, message_id, MessageStatus.FAILED, error=error, updatedAt=now)
