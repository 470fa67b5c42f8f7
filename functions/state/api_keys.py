"""API key records in Redis: `<p>:apikeys` maps id -> JSON record, `<p>:apikey-hashes` maps key hash -> id.

Looking a key up by hash is one round trip (a two-line Lua lookup through both hashes). Every write to a
key also tells the authentication caches (`functions.services.key_cache`): those of other processes through
its id published on `<p>:apikeys:changed` in the write's own transaction, and those of this process
directly, before the write returns.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from functools import lru_cache
from typing import Any, Protocol

import orjson
from redis import Redis
from redis.client import PubSub
from redis.exceptions import LockError

from functions.core.clock import iso, parse_iso, utcnow
from functions.core.enums import Role
from functions.core.errors import StateUnavailable
from functions.core.models import ApiKey
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

_DATETIME_FIELDS = {"created_at", "updated_at", "expires_at", "last_used_at"}


def _render(name: str, value: Any) -> Any:
    if name in _DATETIME_FIELDS:
        return iso(value)
    if isinstance(value, Role):
        return value.label
    return value


class ChangeWatcher(Protocol):
    def clear(self) -> None: ...


# This process's watchers by key prefix, held weakly (a discarded app's cache does not linger).
_watchers: dict[str, weakref.WeakSet[ChangeWatcher]] = {}
_watchers_lock = threading.Lock()


def _changed_here(prefix: str) -> None:
    with _watchers_lock:
        watchers = list(_watchers.get(prefix, ()))
    for watcher in watchers:
        watcher.clear()


_FIND_BY_HASH = """
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[2], id)
"""


def _dump(key: ApiKey) -> bytes:
    return orjson.dumps(
        {spec.name: _render(spec.name, getattr(key, spec.name)) for spec in dataclass_fields(key)}
    )


@lru_cache(maxsize=1024)
def _load(raw: bytes) -> ApiKey:
    """Parse a stored record; memoised on its bytes (authentication reads the same record every request)."""
    return _from_fields(orjson.loads(raw))


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
        self._find_by_hash = conn.register_script(_FIND_BY_HASH)

    def save(self, key: ApiKey) -> None:
        """Insert or replace a key (its hash never changes after creation)."""
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.hset(self._keys.api_keys, key.id, _dump(key))
            pipe.hset(self._keys.api_key_hashes, key.key_hash, key.id)
            pipe.publish(self._keys.api_keys_changed, key.id)
            pipe.execute()
        _changed_here(self._keys.prefix)

    def get(self, key_id: str) -> ApiKey | None:
        with translate_redis_errors():
            raw = self._conn.hget(self._keys.api_keys, key_id)
        return _load(raw) if raw else None

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        with translate_redis_errors():
            raw = self._find_by_hash(keys=[self._keys.api_key_hashes, self._keys.api_keys], args=[key_hash])
        return _load(raw) if raw else None

    def all(self) -> list[ApiKey]:
        """Every key, oldest first."""
        with translate_redis_errors():
            rows = self._conn.hvals(self._keys.api_keys)
        return sorted((_load(raw) for raw in rows), key=lambda key: key.created_at)

    def is_empty(self) -> bool:
        with translate_redis_errors():
            return int(self._conn.hlen(self._keys.api_keys)) == 0

    def delete(self, key: ApiKey) -> None:
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.hdel(self._keys.api_keys, key.id)
            pipe.hdel(self._keys.api_key_hashes, key.key_hash)
            pipe.publish(self._keys.api_keys_changed, key.id)
            pipe.execute()
        _changed_here(self._keys.prefix)

    def watch_changes_here(self, watcher: ChangeWatcher) -> None:
        """Have `watcher.clear()` called after every write to a key made by this process (any repository
        instance with the same prefix); writes by other processes arrive through `subscribe_to_changes`."""
        with _watchers_lock:
            _watchers.setdefault(self._keys.prefix, weakref.WeakSet()).add(watcher)

    def subscribe_to_changes(self) -> PubSub:
        """A subscription to key changes (one message per written or deleted key); its first message is
        the subscription's confirmation. The caller reads and closes it."""
        pubsub: PubSub = self._conn.pubsub()  # type: ignore[no-untyped-call]
        with translate_redis_errors():
            pubsub.subscribe(self._keys.api_keys_changed)
        return pubsub

    def record_usage(self, key_id: str, uses: int) -> None:
        """Add `uses` to the counter and stamp `last_used_at`, if the key still exists.

        Serialised with the other key changes so a usage flush never overwrites a concurrent revoke.
        """
        with self.changes_lock():
            key = self.get(key_id)
            if key is None:
                return
            self.save(replace(key, usage_count=key.usage_count + uses, last_used_at=utcnow()))

    @contextmanager
    def changes_lock(self) -> Iterator[None]:
        """Serialise changes to keys across all API processes (read-modify-write, last-admin checks)."""
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
