"""Auto-reply rules in Redis: one JSON document per rule, indexed per session by creation, and the cooldowns.

| key                                              | type   | holds                                      |
|--------------------------------------------------|--------|--------------------------------------------|
| `<p>:automation-rule:<sid>:<ruleId>`             | string | one rule, its wire shape as JSON           |
| `<p>:session:<sid>:automation-rules`             | zset   | the session's rule ids by creation (ms)    |
| `<p>:auto-reply-cooldown:<sid>:<ruleId>:<chat>`  | string | the message the rule last answered (EX)    |

Every key carries the session id as its own `:` segment, so the session purge job removes them with the
session. The index exists exactly while the session has rules: the webhook fan-out checks it to decide
whether an inbound message needs an auto-reply job at all. A cooldown is a `SET NX EX` shared by every worker
and kept across restarts; it holds the id of the message that took it, so a retried job for that same
message still finds the cooldown its own.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from redis import Redis

from functions.state.codec import CorruptRecord, text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

# KEYS: record, index. ARGV: id, document, score (ms), most rules per session.
_CREATE = """
if redis.call('zcard', KEYS[2]) >= tonumber(ARGV[4]) then return 0 end
redis.call('set', KEYS[1], ARGV[2])
redis.call('zadd', KEYS[2], ARGV[3], ARGV[1])
return 1
"""
# KEYS: record. ARGV: the document read before (compare-and-set), the new one. -1 gone, -2 changed since.
_UPDATE = """
local current = redis.call('get', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return -2 end
redis.call('set', KEYS[1], ARGV[2])
return 1
"""
# KEYS: cooldown. ARGV: message id, seconds. 1: the cooldown is this message's (new, or taken by it before).
_CLAIM = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
if redis.call('get', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""
# KEYS: cooldown. ARGV: message id. Frees the cooldown only if this message still holds it.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_CAS_ATTEMPTS = 5

Outcome = Literal["ok", "missing", "busy"]


def _load(raw: bytes | str, rule_id: str) -> dict[str, Any]:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CorruptRecord(details={"kind": "automation-rule", "id": rule_id}) from exc
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise CorruptRecord(details={"kind": "automation-rule", "id": rule_id})
    return record


class AutomationRuleRepository:
    """Rules of each session (dicts in the wire shape, `AutomationRuleSchema`) and their cooldowns."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn, self._keys = conn, keys
        self._create = conn.register_script(_CREATE)
        self._update = conn.register_script(_UPDATE)
        self._claim = conn.register_script(_CLAIM)
        self._release = conn.register_script(_RELEASE)

    def create(self, record: dict[str, Any], *, score_ms: int, limit: int) -> bool:
        """Store a new rule unless the session holds `limit` already (False)."""
        session_id, rule_id = str(record["sessionId"]), str(record["id"])
        keys = [
            self._keys.automation_rule(session_id, rule_id),
            self._keys.session_automation_rules(session_id),
        ]
        with translate_redis_errors():
            return bool(self._create(keys=keys, args=[rule_id, orjson.dumps(record), score_ms, limit]))

    def any_for(self, session_id: str) -> bool:
        """Whether the session has rules (one EXISTS: the webhook fan-out asks it per inbound message)."""
        with translate_redis_errors():
            return bool(self._conn.exists(self._keys.session_automation_rules(session_id)))

    def get(self, session_id: str, rule_id: str) -> dict[str, Any] | None:
        with translate_redis_errors():
            raw = self._conn.get(self._keys.automation_rule(session_id, rule_id))
        return _load(raw, rule_id) if raw else None

    def list(self, session_id: str) -> list[dict[str, Any]]:
        """The session's rules, oldest first (two round trips; unreadable ones skipped)."""
        with translate_redis_errors():
            ids = [text(i) for i in self._conn.zrange(self._keys.session_automation_rules(session_id), 0, -1)]
            if not ids:
                return []
            raws = self._conn.mget([self._keys.automation_rule(session_id, i) for i in ids])
        records = []
        for rule_id, raw in zip(ids, raws, strict=True):
            if raw:
                try:
                    records.append(_load(raw, rule_id))
                except CorruptRecord:
                    continue
        return records

    def update(
        self, session_id: str, rule_id: str, change: dict[str, Any]
    ) -> tuple[Outcome, dict[str, Any] | None]:
        """Merge `change` into the stored rule, atomically against concurrent writers (compare-and-set, read
        again on a race). Returns the outcome and, when "ok", the stored record."""
        key = self._keys.automation_rule(session_id, rule_id)
        for _ in range(_CAS_ATTEMPTS):
            with translate_redis_errors():
                raw = self._conn.get(key)
            if not raw:
                return "missing", None
            after = {**_load(raw, rule_id), **change}
            with translate_redis_errors():
                done = int(self._update(keys=[key], args=[raw, orjson.dumps(after)]))
            if done == 1:
                return "ok", after
            if done == -1:
                return "missing", None
        return "busy", None

    def delete(self, session_id: str, rule_id: str) -> bool:
        """Remove a rule (its cooldowns expire on their own); whether it existed."""
        with translate_redis_errors(), self._conn.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.automation_rule(session_id, rule_id))
            pipe.zrem(self._keys.session_automation_rules(session_id), rule_id)
            removed, _ = pipe.execute()
        return bool(removed)

    def claim_cooldown(
        self, session_id: str, rule_id: str, chat_id: str, message_id: str, seconds: int
    ) -> bool:
        """Start the rule's cooldown in `chat_id` for answering `message_id`: True when it was free (or is
        already this message's), False while another message's runs. No cooldown (0 s) is always free."""
        if seconds <= 0:
            return True
        key = self._keys.auto_reply_cooldown(session_id, rule_id, chat_id)
        with translate_redis_errors():
            return bool(self._claim(keys=[key], args=[message_id, seconds]))

    def release_cooldown(self, session_id: str, rule_id: str, chat_id: str, message_id: str) -> None:
        """Free the cooldown `message_id` took (its reply was refused, so nothing was answered)."""
        key = self._keys.auto_reply_cooldown(session_id, rule_id, chat_id)
        with translate_redis_errors():
            self._release(keys=[key], args=[message_id])
