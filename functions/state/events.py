"""The event log: each session's capped Redis Stream, an all-sessions stream, and the "not yet fanned out"
set the reconciler works from (`<p>:session:<id>:events`, `<p>:events`, `<p>:events:pending`).

`append` writes all three atomically (one script), so an event is never in a stream without being marked
pending; `mark_dispatched` clears the mark once its deliveries are enqueued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.client import Pipeline

from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

# KEYS: session stream, all stream, pending zset. ARGV: maxlen, session id, event, timestamp, data, now ms.
_APPEND = """
local id = redis.call('xadd', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  'event', ARGV[3], 'timestamp', ARGV[4], 'data', ARGV[5])
redis.call('xadd', KEYS[2], 'MAXLEN', '~', ARGV[1], '*',
  'event', ARGV[3], 'timestamp', ARGV[4], 'data', ARGV[5], 'sessionId', ARGV[2], 'eventId', id)
redis.call('zadd', KEYS[3], ARGV[6], ARGV[2] .. ' ' .. id)
return id
"""


@dataclass(frozen=True)
class StoredEvent:
    """One event as kept in a stream. `data` is its JSON, as published. `stream_id` is the entry's id in
    the stream it was read from (the all-sessions stream has its own ids); `id` is the session stream's."""

    id: str
    session_id: str
    event: str
    timestamp: str
    data: bytes
    stream_id: str


def _event(stream_id: Any, fields: dict[Any, Any], session_id: str | None) -> StoredEvent:
    values = {text(name): value for name, value in fields.items()}
    own_id = text(stream_id)
    return StoredEvent(
        id=text(values.get("eventId", own_id)),
        session_id=session_id or text(values.get("sessionId", "")),
        event=text(values.get("event", "")),
        timestamp=text(values.get("timestamp", "")),
        data=bytes(values.get("data", b"{}")),
        stream_id=own_id,
    )


class EventLog:
    """Append, look up and tail events."""

    def __init__(self, conn: Redis, keys: Keys, *, maxlen: int) -> None:
        self._conn = conn
        self._keys = keys
        self._maxlen = maxlen
        self._append = conn.register_script(_APPEND)

    def append(self, session_id: str, event: str, data: bytes, timestamp: str, now_ms: int) -> str:
        """Add an event to both streams and mark it pending; returns its id in the session stream."""
        keys = [self._keys.session_events(session_id), self._keys.all_events, self._keys.events_pending]
        with translate_redis_errors():
            return text(
                self._append(keys=keys, args=[self._maxlen, session_id, event, timestamp, data, now_ms])
            )

    def mark_dispatched(self, pipe: Pipeline, session_id: str, event_id: str) -> None:
        pipe.zrem(self._keys.events_pending, f"{session_id} {event_id}")

    def pending_before(self, cutoff_ms: int, limit: int = 100) -> list[tuple[str, str]]:
        """(session id, event id) of events marked pending before `cutoff_ms`, oldest first."""
        with translate_redis_errors():
            members = self._conn.zrangebyscore(
                self._keys.events_pending, "-inf", cutoff_ms, start=0, num=limit
            )
        pairs = (text(member).partition(" ") for member in members)
        return [(session_id, event_id) for session_id, _, event_id in pairs]

    def forget_pending(self, session_id: str, event_id: str) -> None:
        with translate_redis_errors():
            self._conn.zrem(self._keys.events_pending, f"{session_id} {event_id}")

    def get(self, session_id: str, event_id: str) -> StoredEvent | None:
        """The event, or None once the capped stream has dropped it."""
        with translate_redis_errors():
            rows: Any = self._conn.xrange(self._keys.session_events(session_id), event_id, event_id)
        return _event(rows[0][0], rows[0][1], session_id) if rows else None

    def last_id(self, stream_key: str) -> str:
        """The id of the newest entry of a stream ("0-0" when empty): tail from here for new events only."""
        with translate_redis_errors():
            rows: Any = self._conn.xrevrange(stream_key, count=1)
        return text(rows[0][0]) if rows else "0-0"

    def read(
        self, positions: dict[str, str], *, block_ms: int, count: int = 100
    ) -> Sequence[tuple[str, StoredEvent]]:
        """Events after each stream's position (`{stream key: last id seen}`), waiting up to `block_ms`.
        Returns (stream key, event) pairs in stream order; advance `positions` with `event.stream_id`."""
        with translate_redis_errors():
            replies: Any = self._conn.xread(positions, count=count, block=block_ms)  # type: ignore[arg-type]
        found: list[tuple[str, StoredEvent]] = []
        for stream, rows in replies or []:
            key = text(stream)
            session_id = self._session_of(key)
            found.extend((key, _event(entry_id, fields, session_id)) for entry_id, fields in rows)
        return found

    def after(self, stream_key: str, after_id: str, *, count: int) -> list[StoredEvent]:
        """Up to `count` events of one stream after `after_id` (exclusive), oldest first; no waiting."""
        with translate_redis_errors():
            rows: Any = self._conn.xrange(stream_key, f"({after_id}", "+", count=count)
        session_id = self._session_of(stream_key)
        return [_event(entry_id, fields, session_id) for entry_id, fields in rows]

    def _session_of(self, stream_key: str) -> str | None:
        prefix, suffix = f"{self._keys.prefix}:session:", ":events"
        if stream_key.startswith(prefix) and stream_key.endswith(suffix):
            return stream_key[len(prefix) : -len(suffix)]
        return None
