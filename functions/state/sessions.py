"""Session records in Redis: one JSON document per session (`<p>:session:<id>`), indexed by creation
time (`<p>:sessions`) and by name (`<p>:session-names`).

A list request reads a page with one MGET (records and leases together), which is what keeps
`GET /api/sessions` cheap; updates are optimistic read-modify-write under WATCH, so a runner reporting a
status and an operator changing the config never lose each other's fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from functools import lru_cache
from typing import Any, cast

import orjson
from redis import Redis
from redis.exceptions import WatchError

from functions.core.clock import iso, parse_iso, utcnow
from functions.core.enums import DesiredState, SessionStatus
from functions.core.errors import Conflict, StateUnavailable
from functions.core.models import Session, SessionConfig
from functions.state.codec import load_record, readable, text
from functions.state.connection import DirectConnections, translate_redis_errors
from functions.state.keys import Keys

_UPDATE_ATTEMPTS = 20

# One round trip for the hottest read (a page of the session list with lease flags): the page's ids, one
# MGET of their records and lease keys (a lease is a string; nil = not held), and the answer as one string:
# a `1`/`0` lease flag per record, then the records, all separated by NUL (which JSON text never contains).
# One string instead of two per session: the client parses one value, and an unchanged page is the same
# bytes, whose parsing (and rendering, by the route) is memoised. The record and lease key names are passed
# in as prefixes built by `Keys`, so the layout stays defined in one place.
_PAGE_WITH_LEASES = """
local ids = redis.call('ZRANGE', KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[3]) + tonumber(ARGV[4]) - 1)
if #ids == 0 then return '' end
local keys = {}
for i, id in ipairs(ids) do
  keys[i] = ARGV[1] .. id
  keys[#ids + i] = ARGV[2] .. id
end
local values = redis.call('MGET', unpack(keys))
local flags, records = {}, {}
for i = 1, #ids do
  if values[i] then
    flags[#flags + 1] = values[#ids + i] and '1' or '0'
    records[#records + 1] = values[i]
  end
end
if #records == 0 then return '' end
return table.concat(flags) .. '\\0' .. table.concat(records, '\\0')
"""
_DATETIME_FIELDS = {"created_at", "updated_at", "connected_at", "last_active_at", "qr_updated_at"}


class SessionLimitReached(Conflict):
    code, default_message = "SESSION_LIMIT_REACHED", "The gateway holds as many sessions as it may"


class SessionNameTaken(Conflict):
    code, default_message = "SESSION_NAME_TAKEN", "A session with this name already exists"


def _render(name: str, value: Any) -> Any:
    """One attribute as the JSON value stored in the document."""
    if name in _DATETIME_FIELDS:
        return iso(value)
    if isinstance(value, SessionConfig):
        return value.to_wire()
    return value


def _to_fields(session: Session) -> dict[str, Any]:
    return {spec.name: _render(spec.name, getattr(session, spec.name)) for spec in dataclass_fields(session)}


def _dump(session: Session) -> bytes:
    return orjson.dumps(_to_fields(session))


@lru_cache(maxsize=4096)
def _load(raw: bytes) -> Session:
    """Parse a stored document. Memoised on its bytes: an unchanged session is parsed once per process
    (Session is immutable, so sharing the instance is safe)."""
    return _from_fields(orjson.loads(raw))


_KNOWN_FIELDS = frozenset(spec.name for spec in dataclass_fields(Session))


@lru_cache(maxsize=64)
def _page_rows(page: bytes) -> tuple[tuple[Session, bool], ...]:
    """`_PAGE_WITH_LEASES`'s answer as (session, lease held) pairs; memoised on its bytes, like `_load`."""
    if not page:
        return ()
    flags, *records = page.split(b"\0")
    rows = [
        (f"page row {i}", (raw, flag == ord("1")))
        for i, (flag, raw) in enumerate(zip(flags, records, strict=True))
    ]
    return tuple(readable(_load_flagged, rows, "session"))  # an unreadable record is logged and left out


def _load_flagged(row: tuple[bytes, bool]) -> tuple[Session, bool]:
    """A stored record with its flag (a lease held), as the lists return them."""
    return _load(row[0]), row[1]


def _from_fields(data: dict[str, Any]) -> Session:
    values = {name: value for name, value in data.items() if name in _KNOWN_FIELDS}
    for name in _DATETIME_FIELDS:
        if values.get(name):
            values[name] = parse_iso(values[name])
    values["status"] = SessionStatus(values.get("status", "created"))
    values["desired_state"] = DesiredState(values.get("desired_state", "stopped"))
    values["config"] = SessionConfig.from_wire(values.get("config"))
    return Session(**values)


class SessionRepository:
    """CRUD for sessions. Names are unique; every write bumps `updated_at`."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn = conn
        self._keys = keys
        self._page_with_leases = conn.register_script(_PAGE_WITH_LEASES)
        self._direct_conns = DirectConnections.of(conn)

    def create(self, session: Session, *, max_total: int | None = None) -> Session:
        """Store a new session atomically with its name; SessionNameTaken if the name is in use,
        SessionLimitReached when `max_total` sessions exist (checked in the same transaction: every create
        writes the watched name hash, so two creates cannot both take the last place)."""
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            try:
                pipe.watch(self._keys.session_names)  # type: ignore[no-untyped-call]
                if pipe.hexists(self._keys.session_names, session.name):
                    raise SessionNameTaken(details={"name": session.name})
                if max_total is not None and pipe.hlen(self._keys.session_names) >= max_total:
                    raise SessionLimitReached(details={"limit": max_total, "setting": "MAX_SESSIONS_TOTAL"})
                pipe.multi()
                pipe.hset(self._keys.session_names, session.name, session.id)
                pipe.set(self._keys.session(session.id), _dump(session))
                pipe.zadd(self._keys.sessions, {session.id: session.created_at.timestamp() * 1000})
                pipe.execute()
            except WatchError as exc:
                raise SessionNameTaken(details={"name": session.name}) from exc
        return session

    def get(self, session_id: str) -> Session | None:
        with translate_redis_errors():
            raw = self._conn.get(self._keys.session(session_id))
        return load_record(_load, raw, "session", session_id) if raw else None

    def exists(self, session_id: str) -> bool:
        """Whether the session's record is stored (readable or not)."""
        with translate_redis_errors():
            return bool(self._conn.exists(self._keys.session(session_id)))

    def id_for_name(self, name: str) -> str | None:
        with translate_redis_errors():
            value = self._conn.hget(self._keys.session_names, name)
        return text(value) if value else None

    def page_ids(self, *, limit: int, offset: int, only: Iterable[str] | None = None) -> list[str]:
        """Session ids oldest first; `only` restricts to those ids (a scoped key's view)."""
        if only is not None:
            allowed = set(only)
            return [session_id for session_id in self.all_ids() if session_id in allowed][
                offset : offset + limit
            ]
        with translate_redis_errors():
            return [text(raw) for raw in self._conn.zrange(self._keys.sessions, offset, offset + limit - 1)]

    def page(self, *, limit: int, offset: int, only: Iterable[str] | None = None) -> list[Session]:
        return self.get_many(self.page_ids(limit=limit, offset=offset, only=only))

    def get_many(self, ids: list[str]) -> list[Session]:
        """The sessions with these ids, in order (one round trip), skipping any deleted meanwhile and any
        whose record cannot be read (logged): one bad record never stops a list or the runners' loop."""
        if not ids:
            return []
        with translate_redis_errors():
            rows = self._conn.mget([self._keys.session(session_id) for session_id in ids])
        return readable(_load, ((i, raw) for i, raw in zip(ids, rows, strict=True) if raw), "session")

    def get_many_with_leases(self, ids: list[str]) -> list[tuple[Session, bool]]:
        """Like `get_many`, each with whether a runner holds its lease, in the same single MGET."""
        if not ids:
            return []
        keys = [self._keys.session(session_id) for session_id in ids]
        keys += [self._keys.session_lease(session_id) for session_id in ids]
        with translate_redis_errors():
            rows = self._conn.mget(keys)
        records, leases = rows[: len(ids)], rows[len(ids) :]
        present = [
            (session_id, (cast(bytes, raw), lease is not None))
            for session_id, raw, lease in zip(ids, records, leases, strict=True)
            if raw
        ]
        return readable(_load_flagged, present, "session")

    def page_with_leases(self, *, limit: int, offset: int) -> tuple[tuple[Session, bool], ...]:
        """A page of all sessions, oldest first, each with its lease flag, in one round trip (on a
        connection of our own: `DirectConnections`). An unchanged page is the same tuple object."""
        args = [self._keys.session(""), self._keys.session_lease(""), offset, limit]
        with translate_redis_errors():
            page = self._direct_conns.run_script(self._page_with_leases, [self._keys.sessions], args)
        return _page_rows(page)

    def all_ids(self) -> list[str]:
        with translate_redis_errors():
            return [text(raw) for raw in self._conn.zrange(self._keys.sessions, 0, -1)]

    def update(self, session_id: str, **changes: Any) -> bool:
        """Set the given fields (dataclass names) if the session exists; returns whether it did."""
        if unknown := changes.keys() - _KNOWN_FIELDS:
            raise ValueError(f"unknown session fields: {sorted(unknown)}")
        return self._modify(
            session_id,
            lambda record: record.update({name: _render(name, value) for name, value in changes.items()}),
        )

    def increment(self, session_id: str, field: str) -> int | None:
        """Atomically add one to an integer field (e.g. `restart_generation`); None if no such session."""
        result: list[int] = []

        def bump(record: dict[str, Any]) -> None:
            record[field] = int(record.get(field) or 0) + 1
            result[:] = [record[field]]

        return result[0] if self._modify(session_id, bump) else None

    def _modify(self, session_id: str, change: Any) -> bool:
        """Read-modify-write one document under WATCH, retrying on a concurrent write."""
        key = self._keys.session(session_id)
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            for _ in range(_UPDATE_ATTEMPTS):
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    if raw is None:
                        pipe.reset()
                        return False
                    record = orjson.loads(raw)
                    change(record)
                    record["updated_at"] = iso(utcnow())
                    pipe.multi()
                    pipe.set(key, orjson.dumps(record))
                    pipe.execute()
                    return True
                except WatchError:
                    continue
        raise StateUnavailable("Too much contention updating the session", details={"sessionId": session_id})

    def delete(self, session: Session) -> None:
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.delete(self._keys.session(session.id))
            pipe.zrem(self._keys.sessions, session.id)
            pipe.hdel(self._keys.session_names, session.name)
            pipe.execute()

    def engines_loaded(self, ids: list[str]) -> dict[str, bool]:
        """Whether a runner currently holds each session's lease."""
        if not ids:
            return {}
        with translate_redis_errors():
            leases = self._conn.mget([self._keys.session_lease(session_id) for session_id in ids])
        return {session_id: lease is not None for session_id, lease in zip(ids, leases, strict=True)}
