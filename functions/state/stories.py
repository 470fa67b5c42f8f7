"""Received stories in Redis, each kept until it expires on WhatsApp (24 h after it was posted).

| key                            | type   | holds                                                        |
|--------------------------------|--------|--------------------------------------------------------------|
| `<p>:story:<sid>:<statusId>`   | string | one story, JSON (`functions.core.stories` record), PX expiry |
| `<p>:session:<sid>:stories`    | zset   | the session's story ids scored by their expiry (ms)          |

The record's own TTL is the story's remaining life, so Redis drops it on time even if nobody reads; the
index is trimmed of expired ids on every read and write. Both keys carry the session id as a `:` segment,
so the session purge (`functions.state.session_data`) removes them with the session.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis import Redis

from functions.state.codec import CorruptRecord
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

# KEYS: record, index. ARGV: id, document, expiry (ms), now (ms). 0: already stored (or already expired).
_ADD = """
local ttl = tonumber(ARGV[3]) - tonumber(ARGV[4])
if ttl <= 0 then return 0 end
if redis.call('set', KEYS[1], ARGV[2], 'PX', ttl, 'NX') == false then return 0 end
redis.call('zadd', KEYS[2], ARGV[3], ARGV[1])
redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[4])
if redis.call('pttl', KEYS[2]) < ttl then redis.call('pexpire', KEYS[2], ttl) end
return 1
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _load(raw: bytes | str, status_id: str) -> dict[str, Any]:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CorruptRecord(details={"kind": "story", "id": status_id}) from exc
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise CorruptRecord(details={"kind": "story", "id": status_id})
    return record


class StoryRepository:
    """The stories each session received. A record is a dict: `id`, `contact{id, name, pushName}`, `type`,
    `caption`, `backgroundColor`, `font`, `postedAt`/`expiresAt` (epoch ms), `mediaKey`, `mediaMimetype`,
    `mediaOmitted`, `omitReason`."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn, self._keys = conn, keys
        self._add = conn.register_script(_ADD)

    def add(self, session_id: str, record: dict[str, Any]) -> bool:
        """Store `record` until its `expiresAt`; False when it is already stored or already expired."""
        status_id = record["id"]
        keys = [self._keys.story(session_id, status_id), self._keys.session_stories(session_id)]
        args = [status_id, orjson.dumps(record), int(record["expiresAt"]), _now_ms()]
        with translate_redis_errors():
            return bool(self._add(keys=keys, args=args))

    def get(self, session_id: str, status_id: str) -> dict[str, Any] | None:
        with translate_redis_errors():
            raw = self._conn.get(self._keys.story(session_id, status_id))
        return _load(raw, status_id) if raw is not None else None

    def live(self, session_id: str, contact_id: str | None = None) -> list[dict[str, Any]]:
        """The stories not yet expired, oldest first; only `contact_id`'s when given."""
        index, now = self._keys.session_stories(session_id), _now_ms()
        with translate_redis_errors():
            self._conn.zremrangebyscore(index, "-inf", now)
            ids = [i.decode() if isinstance(i, bytes) else str(i) for i in self._conn.zrange(index, 0, -1)]
            raws = self._conn.mget([self._keys.story(session_id, i) for i in ids]) if ids else []
        records = [_load(raw, i) for i, raw in zip(ids, raws, strict=True) if raw is not None]
        records.sort(key=lambda record: int(record.get("postedAt") or 0))
        if contact_id is None:
            return records
        return [r for r in records if (r.get("contact") or {}).get("id") == contact_id]
