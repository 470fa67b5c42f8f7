"""Message templates in Redis: one JSON document per template, indexed per session by time and by name.

| key                                     | type   | holds                                         |
|-----------------------------------------|--------|-----------------------------------------------|
| `<p>:template:<sid>:<templateId>`       | string | one template, its wire shape as JSON          |
| `<p>:session:<sid>:templates`           | zset   | the session's template ids by creation (ms)   |
| `<p>:session:<sid>:template-names`      | hash   | name -> template id (uniqueness, send by name) |

Every key carries the session id as its own `:` segment, so the session purge job
(`functions.state.session_data`) removes them with the session. Writes are Lua scripts, so a name is
claimed and its record written together: two requests racing for one name get one 201 and one 409.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from redis import Redis

from functions.state.codec import CorruptRecord, text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

# KEYS: record, index, names. ARGV: id, name, document, score (ms), most templates per session.
_CREATE = """
if redis.call('hexists', KEYS[3], ARGV[2]) == 1 then return 0 end
if redis.call('zcard', KEYS[2]) >= tonumber(ARGV[5]) then return -1 end
redis.call('hset', KEYS[3], ARGV[2], ARGV[1])
redis.call('set', KEYS[1], ARGV[3])
redis.call('zadd', KEYS[2], ARGV[4], ARGV[1])
return 1
"""
# KEYS: record, names. ARGV: id, the document read before (compare-and-set), new document, old name, new
# name. -1: gone; -2: changed since read (the caller reads again); 0: the new name is taken.
_UPDATE = """
if redis.call('get', KEYS[1]) ~= ARGV[2] then
  if redis.call('exists', KEYS[1]) == 0 then return -1 end
  return -2
end
if ARGV[4] ~= ARGV[5] then
  if redis.call('hsetnx', KEYS[2], ARGV[5], ARGV[1]) == 0 then return 0 end
  if redis.call('hget', KEYS[2], ARGV[4]) == ARGV[1] then redis.call('hdel', KEYS[2], ARGV[4]) end
end
redis.call('set', KEYS[1], ARGV[3])
return 1
"""
# KEYS: record, index, names. ARGV: id, the name it held (read by the caller; only freed if still ours).
_DELETE = """
local removed = redis.call('del', KEYS[1])
redis.call('zrem', KEYS[2], ARGV[1])
if redis.call('hget', KEYS[3], ARGV[2]) == ARGV[1] then redis.call('hdel', KEYS[3], ARGV[2]) end
return removed
"""
_CAS_ATTEMPTS = 5

Outcome = Literal["ok", "missing", "name_taken", "full", "busy"]


def _load(raw: bytes | str, template_id: str) -> dict[str, Any]:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CorruptRecord(details={"kind": "template", "id": template_id}) from exc
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise CorruptRecord(details={"kind": "template", "id": template_id})
    return record


class TemplateRepository:
    """Templates of each session. Records are dicts in the wire shape (`TemplateSchema`)."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn, self._keys = conn, keys
        self._create = conn.register_script(_CREATE)
        self._update = conn.register_script(_UPDATE)
        self._delete = conn.register_script(_DELETE)

    def _record_key(self, session_id: str, template_id: str) -> str:
        return self._keys.template(session_id, template_id)

    def create(self, record: dict[str, Any], *, score_ms: int, limit: int) -> Outcome:
        """Store a new template unless its name is taken ("name_taken") or the session holds `limit`
        templates already ("full")."""
        session_id, template_id = str(record["sessionId"]), str(record["id"])
        keys = [
            self._record_key(session_id, template_id),
            self._keys.session_templates(session_id),
            self._keys.template_names(session_id),
        ]
        args = [template_id, record["name"], orjson.dumps(record), score_ms, limit]
        with translate_redis_errors():
            done = int(self._create(keys=keys, args=args))
        return {1: "ok", 0: "name_taken", -1: "full"}[done]  # type: ignore[return-value]

    def get(self, session_id: str, template_id: str) -> dict[str, Any] | None:
        with translate_redis_errors():
            raw = self._conn.get(self._record_key(session_id, template_id))
        return _load(raw, template_id) if raw else None

    def find_by_name(self, session_id: str, name: str) -> dict[str, Any] | None:
        with translate_redis_errors():
            template_id = self._conn.hget(self._keys.template_names(session_id), name)
        return self.get(session_id, text(template_id)) if template_id else None

    def list(self, session_id: str) -> list[dict[str, Any]]:
        """The session's templates, oldest first (two round trips; unreadable ones skipped)."""
        with translate_redis_errors():
            ids = [text(i) for i in self._conn.zrange(self._keys.session_templates(session_id), 0, -1)]
            if not ids:
                return []
            raws = self._conn.mget([self._record_key(session_id, i) for i in ids])
        records = []
        for template_id, raw in zip(ids, raws, strict=True):
            if raw:
                try:
                    records.append(_load(raw, template_id))
                except CorruptRecord:
                    continue
        return records

    def update(
        self, session_id: str, template_id: str, change: dict[str, Any]
    ) -> tuple[Outcome, dict[str, Any] | None]:
        """Merge `change` into the stored template, atomically against concurrent writers (compare-and-set,
        read again on a race). Returns the outcome and, when "ok", the stored record."""
        key = self._record_key(session_id, template_id)
        for _ in range(_CAS_ATTEMPTS):
            with translate_redis_errors():
                raw = self._conn.get(key)
            if not raw:
                return "missing", None
            before = _load(raw, template_id)
            after = {**before, **change}
            args = [template_id, raw, orjson.dumps(after), before["name"], after["name"]]
            with translate_redis_errors():
                done = int(self._update(keys=[key, self._keys.template_names(session_id)], args=args))
            if done != -2:
                outcome: Outcome = {1: "ok", 0: "name_taken", -1: "missing"}[done]  # type: ignore[assignment]
                return outcome, after if done == 1 else None
        return "busy", None

    def delete(self, session_id: str, template_id: str) -> bool:
        """Remove a template and free its name; whether it existed."""
        record = self.get(session_id, template_id)
        if record is None:
            return False
        keys = [
            self._record_key(session_id, template_id),
            self._keys.session_templates(session_id),
            self._keys.template_names(session_id),
        ]
        with translate_redis_errors():
            return bool(self._delete(keys=keys, args=[template_id, record["name"]]))
