"""Session records in Redis (`<p>:session:<id>` hashes, indexed by creation time and by name)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from typing import Any

from redis import Redis
from redis.exceptions import WatchError

from functions.core.clock import iso, parse_iso, utcnow
from functions.core.enums import DesiredState, SessionStatus
from functions.core.errors import Conflict
from functions.core.models import Session, SessionConfig
from functions.state.codec import decode_fields, encode_fields, text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

_DATETIME_FIELDS = {"created_at", "updated_at", "connected_at", "last_active_at", "qr_updated_at"}

# HSET only when the record still exists: a runner reporting status after a delete must not resurrect it.
_UPDATE_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
  return 1
end
return 0
"""


class SessionNameTaken(Conflict):
    code, default_message = "SESSION_NAME_TAKEN", "A session with this name already exists"


def _render(name: str, value: Any) -> Any:
    """One attribute as the JSON value stored in its hash field."""
    if name in _DATETIME_FIELDS:
        return iso(value)
    if isinstance(value, SessionConfig):
        return value.to_wire()
    return value


def _to_fields(session: Session) -> dict[str, Any]:
    return {spec.name: _render(spec.name, getattr(session, spec.name)) for spec in dataclass_fields(session)}


def _from_fields(data: dict[str, Any]) -> Session:
    known = {spec.name for spec in dataclass_fields(Session)}
    values = {name: value for name, value in data.items() if name in known}
    for name in _DATETIME_FIELDS & values.keys():
        values[name] = parse_iso(values[name])
    values["status"] = SessionStatus(values.get("status", SessionStatus.CREATED))
    values["desired_state"] = DesiredState(values.get("desired_state", DesiredState.STOPPED))
    values["config"] = SessionConfig.from_wire(values.get("config"))
    return Session(**values)


class SessionRepository:
    """CRUD for sessions. Names are unique; every write bumps `updated_at`."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn = conn
        self._keys = keys
        self._update_if_exists = conn.register_script(_UPDATE_IF_EXISTS)

    def create(self, session: Session) -> Session:
        """Store a new session atomically with its name; SessionNameTaken if the name is in use."""
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            try:
                pipe.watch(self._keys.session_names)  # type: ignore[no-untyped-call]
                if pipe.hexists(self._keys.session_names, session.name):
                    raise SessionNameTaken(details={"name": session.name})
                pipe.multi()
                pipe.hset(self._keys.session_names, session.name, session.id)
                pipe.hset(self._keys.session(session.id), mapping=encode_fields(_to_fields(session)))
                pipe.zadd(self._keys.sessions, {session.id: session.created_at.timestamp() * 1000})
                pipe.execute()
            except WatchError as exc:
                raise SessionNameTaken(details={"name": session.name}) from exc
        return session

    def get(self, session_id: str) -> Session | None:
        with translate_redis_errors():
            raw = self._conn.hgetall(self._keys.session(session_id))
        return _from_fields(decode_fields(raw)) if raw else None

    def id_for_name(self, name: str) -> str | None:
        with translate_redis_errors():
            value = self._conn.hget(self._keys.session_names, name)
        return text(value) if value else None

    def page(self, *, limit: int, offset: int, only: Iterable[str] | None = None) -> list[Session]:
        """Sessions oldest first; `only` restricts to those ids (a scoped key's view)."""
        with translate_redis_errors():
            ids = self.all_ids()
            if only is not None:
                allowed = set(only)
                ids = [session_id for session_id in ids if session_id in allowed]
            return self.get_many(ids[offset : offset + limit])

    def get_many(self, ids: list[str]) -> list[Session]:
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.hgetall(self._keys.session(session_id))
            rows = pipe.execute()
        return [_from_fields(decode_fields(raw)) for raw in rows if raw]

    def all_ids(self) -> list[str]:
        with translate_redis_errors():
            return [text(raw) for raw in self._conn.zrange(self._keys.sessions, 0, -1)]

    def update(self, session_id: str, **changes: Any) -> bool:
        """Set the given fields (dataclass names) if the session exists; returns whether it did."""
        known = {spec.name for spec in dataclass_fields(Session)}
        if unknown := changes.keys() - known:
            raise ValueError(f"unknown session fields: {sorted(unknown)}")
        changes["updated_at"] = utcnow()
        rendered = {name: _render(name, value) for name, value in changes.items()}
        argv = [part for pair in encode_fields(rendered).items() for part in pair]
        with translate_redis_errors():
            return bool(self._update_if_exists(keys=[self._keys.session(session_id)], args=argv))

    def increment(self, session_id: str, field: str) -> int:
        """Atomically add one to an integer field (e.g. `restart_generation`)."""
        with translate_redis_errors():
            return int(self._conn.hincrby(self._keys.session(session_id), field, 1))

    def delete(self, session: Session) -> None:
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.delete(self._keys.session(session.id))
            pipe.zrem(self._keys.sessions, session.id)
            pipe.hdel(self._keys.session_names, session.name)
            pipe.execute()

    def engines_loaded(self, ids: list[str]) -> dict[str, bool]:
        """Whether a runner currently holds each session's lease."""
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.exists(self._keys.session_lease(session_id))
            flags = pipe.execute()
        return {session_id: bool(flag) for session_id, flag in zip(ids, flags, strict=True)}
