"""API key records in Redis (`<p>:apikey:<id>` hashes, `<p>:apikey-hashes` for lookup by hash)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import fields as dataclass_fields
from typing import Any

from redis import Redis
from redis.exceptions import LockError

from functions.core.clock import iso, parse_iso, utcnow
from functions.core.enums import Role
from functions.core.errors import StateUnavailable
from functions.core.models import ApiKey
from functions.state.codec import decode_fields, encode_fields, text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

_DATETIME_FIELDS = {"created_at", "updated_at", "expires_at", "last_used_at"}


def _render(name: str, value: Any) -> Any:
    if name in _DATETIME_FIELDS:
        return iso(value)
    if isinstance(value, Role):
        return value.label
    return value


def _from_fields(data: dict[str, Any]) -> ApiKey:
    known = {spec.name for spec in dataclass_fields(ApiKey)}
    values = {name: value for name, value in data.items() if name in known}
    for name in _DATETIME_FIELDS & values.keys():
        values[name] = parse_iso(values[name])
    values["role"] = Role.parse(values["role"])
    return ApiKey(**values)


class ApiKeyRepository:
    """CRUD for API keys plus the lock that serialises admin-affecting changes."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn = conn
        self._keys = keys

    def save(self, key: ApiKey) -> None:
        fields = {spec.name: _render(spec.name, getattr(key, spec.name)) for spec in dataclass_fields(key)}
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.hset(self._keys.api_key(key.id), mapping=encode_fields(fields))
            pipe.hset(self._keys.api_key_hashes, key.key_hash, key.id)
            pipe.zadd(self._keys.api_keys, {key.id: key.created_at.timestamp() * 1000})
            pipe.execute()

    def get(self, key_id: str) -> ApiKey | None:
        with translate_redis_errors():
            raw = self._conn.hgetall(self._keys.api_key(key_id))
        return _from_fields(decode_fields(raw)) if raw else None

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        with translate_redis_errors():
            key_id = self._conn.hget(self._keys.api_key_hashes, key_hash)
        return self.get(text(key_id)) if key_id else None

    def all(self) -> list[ApiKey]:
        with translate_redis_errors():
            ids = self._conn.zrange(self._keys.api_keys, 0, -1)
            with self._conn.pipeline(transaction=False) as pipe:
                for key_id in ids:
                    pipe.hgetall(self._keys.api_key(text(key_id)))
                rows = pipe.execute()
        return [_from_fields(decode_fields(raw)) for raw in rows if raw]

    def is_empty(self) -> bool:
        with translate_redis_errors():
            return int(self._conn.zcard(self._keys.api_keys)) == 0

    def delete(self, key: ApiKey) -> None:
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.delete(self._keys.api_key(key.id))
            pipe.hdel(self._keys.api_key_hashes, key.key_hash)
            pipe.zrem(self._keys.api_keys, key.id)
            pipe.execute()

    def record_usage(self, key_id: str, uses: int) -> None:
        """Add `uses` to the counter and stamp `last_used_at`, if the key still exists."""
        record = self._keys.api_key(key_id)
        with translate_redis_errors():
            if not self._conn.exists(record):
                return
            with self._conn.pipeline() as pipe:
                pipe.hincrby(record, "usage_count", uses)
                pipe.hset(record, "last_used_at", encode_fields({"v": iso(utcnow())})["v"])
                pipe.execute()

    @contextmanager
    def admin_lock(self) -> Iterator[None]:
        """Serialise changes that could remove the last usable admin key (across all API processes)."""
        lock = self._conn.lock(self._keys.api_keys_lock, timeout=10, blocking_timeout=5)
        with translate_redis_errors():
            acquired = lock.acquire()
        if not acquired:
            raise StateUnavailable("Timed out waiting for the API key lock")
        try:
            yield
        finally:
            # Expired while held (>10 s): the change still went through, there is nothing to release.
            with suppress(LockError):
                lock.release()
