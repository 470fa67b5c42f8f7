"""What a session process counts about messages: Prometheus metrics, the dashboard's daily figures and the
statistics routes' traffic (`functions.state.message_activity`).

One pipelined round trip per message. Counting never fails a send or stops the event flow: a Redis error
here is logged and dropped (the message record, the source of truth, is already written).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.client import Pipeline

from functions.core.clock import parse_iso
from functions.state import message_activity, message_stats, metrics
from functions.state.keys import Keys

log = logging.getLogger(__name__)


@contextmanager
def _counting() -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # counters are best effort; the record is already written
        log.warning("message counters not updated: %s", exc)


class MessageCounters:
    def __init__(self, conn: Redis, keys: Keys, session_id: str | None = None) -> None:
        self._conn, self._keys, self._session_id = conn, keys, session_id

    def _activity(
        self,
        pipe: Pipeline,
        direction: message_activity.Direction,
        when: datetime,
        record: dict[str, Any] | None,
    ) -> None:
        """The statistics' counts, on the same pipeline (skipped when the session is unknown)."""
        record = record or {}
        session_id = self._session_id or record.get("sessionId")
        if session_id:
            activity = message_activity.Activity(
                direction, str(session_id), when, record.get("chatId"), record.get("type")
            )
            message_activity.record(pipe, self._keys, activity)

    def sent(self, record: dict[str, Any]) -> None:
        """A message WhatsApp accepted; with the API's accept time, the send latency is observed too."""
        now = datetime.now(UTC)
        with _counting(), self._conn.pipeline(transaction=False) as pipe:
            metrics.incr_counter(pipe, self._keys, metrics.MESSAGES_SENT)
            message_stats.record_message(pipe, self._keys, "sent", now)
            self._activity(pipe, "sent", now, record)
            if record.get("content") and record.get("createdAt"):  # sent through the API
                accepted = parse_iso(str(record["createdAt"]))
                if accepted is not None:
                    seconds = (now - accepted).total_seconds()
                    metrics.observe(pipe, self._keys, metrics.MESSAGE_SEND_LATENCY, seconds)
            pipe.execute()

    def received(self, record: dict[str, Any] | None = None) -> None:
        now = datetime.now(UTC)
        with _counting(), self._conn.pipeline(transaction=False) as pipe:
            metrics.incr_counter(pipe, self._keys, metrics.MESSAGES_RECEIVED)
            message_stats.record_message(pipe, self._keys, "received", now)
            self._activity(pipe, "received", now, record)
            pipe.execute()

    def failed(self) -> None:
        with _counting(), self._conn.pipeline(transaction=False) as pipe:
            metrics.incr_counter(pipe, self._keys, metrics.MESSAGES_FAILED)
            self._activity(pipe, "failed", datetime.now(UTC), None)
            pipe.execute()

    def recorded(self, direction: str, record: dict[str, Any]) -> None:
        """The inbox's hook: a message seen on WhatsApp (received, or sent from the phone)."""
        if direction == "incoming":
            self.received(record)
        else:
            self.sent(record)
