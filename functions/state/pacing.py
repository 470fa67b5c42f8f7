"""Send pacing state in Redis, so that a session's counters survive its process (a failover, a restart).

- `<p>:pacing:<sid>` (hash): `day` (the UTC day `sent` and `cold` count), `sent`, `cold`, `failures` (the
  current run of failed sends) and `openUntil` (epoch ms the failure breaker stays open until). Writes go
  through Lua, so a day rolls over and a breaker trips atomically.
- `<p>:pacing:<sid>:chats` (set): chats this session sent to; a chat in it is no longer a cold reachout.
  A chat that wrote to us is not cold either (its sender index of message records exists).
- `<p>:pacing-phone:<phone>` (string): the UTC day the phone was first seen, for the account's age.

The rules themselves are in `functions.core.pacing`.
"""

from __future__ import annotations

from datetime import date

from redis import Redis

from functions.core.pacing import PacingCounts
from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

# Counts outlive their day (so a day that just ended still reads as such) and any breaker cool-down.
_COUNTS_TTL_SECONDS = 3 * 86_400
_CHATS_TTL_SECONDS = 365 * 86_400

# KEYS: pacing hash, chats set. ARGV: day, chat ('' = none), cold ('1'/'0'), hash TTL, set TTL.
# A send that went out: counted for its day, the chat no longer cold, the failure run over.
_SENT = """
if redis.call('HGET', KEYS[1], 'day') ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'day', ARGV[1], 'sent', 0, 'cold', 0)
end
redis.call('HINCRBY', KEYS[1], 'sent', 1)
redis.call('HSET', KEYS[1], 'failures', 0)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[2] ~= '' then
  local added = redis.call('SADD', KEYS[2], ARGV[2])
  if added == 1 and ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'cold', 1) end
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return 1
"""
# KEYS: pacing hash, chats set. ARGV: day, hash TTL, set TTL, chat... Reach-outs that are not messages (a
# group created with people, people added to a group): each chat new to the set is one cold reach-out.
_REACHED = """
if redis.call('HGET', KEYS[1], 'day') ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'day', ARGV[1], 'sent', 0, 'cold', 0)
end
local added = 0
for i = 4, #ARGV do added = added + redis.call('SADD', KEYS[2], ARGV[i]) end
redis.call('HINCRBY', KEYS[1], 'cold', added)
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return added
"""
# KEYS: pacing hash. ARGV: threshold, cool-down (ms), now (ms), hash TTL. Returns 1 when the breaker trips.
_FAILED = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if failures >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'failures', 0, 'openUntil', tonumber(ARGV[3]) + tonumber(ARGV[2]))
  return 1
end
return 0
"""


def _int(value: bytes | str | None) -> int:
    return int(value) if value else 0


class PacingState:
    """Per-session pacing counters, the breaker, known chats and per-phone first-seen days."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn, self._keys = conn, keys
        self._sent = conn.register_script(_SENT)
        self._failed = conn.register_script(_FAILED)
        self._reached = conn.register_script(_REACHED)

    def read(self, session_id: str, *, phone: str | None, chat_id: str | None) -> PacingCounts:
        """Everything a check needs, in one round trip. `chat_known` is True without a `chat_id`."""
        keys = self._keys
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            pipe.hmget(keys.pacing(session_id), ["day", "sent", "cold", "openUntil"])
            pipe.get(keys.pacing_phone(phone or "-"))
            if chat_id:
                pipe.sismember(keys.pacing_chats(session_id), chat_id)
                pipe.exists(keys.sender_messages(session_id, chat_id))
            found = pipe.execute()
        (day, sent, cold, open_until), first_seen = found[0], found[1]
        return PacingCounts(
            day=text(day) if day else None,
            sent=_int(sent),
            cold=_int(cold),
            open_until_ms=_int(open_until),
            first_seen=date.fromisoformat(text(first_seen)) if phone and first_seen else None,
            chat_known=not chat_id or bool(found[2]) or bool(found[3]),
        )

    def first_seen(self, phone: str, today: date) -> date:
        """The day `phone` was first seen, recording `today` if it never was."""
        key = self._keys.pacing_phone(phone)
        with translate_redis_errors(), self._conn.pipeline(transaction=True) as pipe:
            pipe.set(key, today.isoformat(), nx=True)
            pipe.get(key)
            _, seen = pipe.execute()
        return date.fromisoformat(text(seen))

    def record_sent(self, session_id: str, chat_id: str | None, *, day: date, cold: bool) -> None:
        keys = [self._keys.pacing(session_id), self._keys.pacing_chats(session_id)]
        args = [day.isoformat(), chat_id or "", "1" if cold else "0", _COUNTS_TTL_SECONDS, _CHATS_TTL_SECONDS]
        with translate_redis_errors():
            self._sent(keys=keys, args=args)

    def unknown_chats(self, session_id: str, chat_ids: list[str]) -> list[str]:
        """Those of `chat_ids` we never sent to and that never wrote to us (each a cold reach-out)."""
        keys = self._keys
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            for chat_id in chat_ids:
                pipe.sismember(keys.pacing_chats(session_id), chat_id)
                pipe.exists(keys.sender_messages(session_id, chat_id))
            found = pipe.execute()
        return [chat for i, chat in enumerate(chat_ids) if not (found[2 * i] or found[2 * i + 1])]

    def record_reachouts(self, session_id: str, chat_ids: list[str], *, day: date) -> None:
        """Count reach-outs to `chat_ids` that were not messages (see `_REACHED`)."""
        if not chat_ids:
            return
        keys = [self._keys.pacing(session_id), self._keys.pacing_chats(session_id)]
        with translate_redis_errors():
            args: list[str | int] = [day.isoformat(), _COUNTS_TTL_SECONDS, _CHATS_TTL_SECONDS, *chat_ids]
            self._reached(keys=keys, args=args)

    def record_failure(self, session_id: str, *, threshold: int, cooldown_ms: int, now_ms: int) -> bool:
        """Count a failed send; True when this one opened the breaker (for `cooldown_ms` from `now_ms`)."""
        ttl = max(_COUNTS_TTL_SECONDS, cooldown_ms // 1000 + 60)
        with translate_redis_errors():
            return bool(
                self._failed(keys=[self._keys.pacing(session_id)], args=[threshold, cooldown_ms, now_ms, ttl])
            )
