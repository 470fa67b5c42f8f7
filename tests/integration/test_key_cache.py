"""The API key cache of an API process answers only while it hears every key change, forgets everything on
each change it hears, and never keeps a record read before a change it heard."""

from __future__ import annotations

import time

import pytest
from redis import Redis
from redis.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from functions.core.clock import utcnow
from functions.core.enums import Role
from functions.core.models import ApiKey
from functions.services.key_cache import KeyCache
from functions.state.api_keys import ApiKeyRepository
from functions.state.keys import Keys

KEY = ApiKey("k-1", "cached", "h" * 64, "owa_k1_abcde", Role.ADMIN, utcnow(), utcnow())


@pytest.fixture
def live_cache(redis_conn: Redis) -> KeyCache:
    """A cache listening to the real change feed, once its subscription is confirmed."""
    cache = KeyCache(ApiKeyRepository(redis_conn, Keys("openwa")).subscribe_to_changes, ttl=60)
    cache.get(KEY.key_hash)  # the first lookup starts the listener
    _until(lambda: cache.live)
    return cache


def _remember(cache: KeyCache) -> None:
    _, generation = cache.get(KEY.key_hash)
    cache.put(KEY.key_hash, KEY, generation)


def test_a_looked_up_key_is_served_from_memory(live_cache: KeyCache) -> None:
    _remember(live_cache)
    assert live_cache.get(KEY.key_hash)[0] is KEY


def test_a_change_published_by_another_process_empties_the_cache_at_once(
    live_cache: KeyCache, redis_conn: Redis
) -> None:
    _remember(live_cache)
    redis_conn.publish(Keys("openwa").api_keys_changed, KEY.id)  # what any write to a key sends
    _until(lambda: live_cache.get(KEY.key_hash)[0] is None, timeout=1.0)


def test_a_key_written_in_this_process_is_forgotten_before_the_write_returns(
    live_cache: KeyCache, redis_conn: Redis
) -> None:
    repo = ApiKeyRepository(redis_conn, Keys("openwa"))
    repo.watch_changes_here(live_cache)
    _remember(live_cache)
    repo.save(KEY)
    assert live_cache.get(KEY.key_hash)[0] is None


def test_a_record_read_before_a_change_is_not_kept(live_cache: KeyCache) -> None:
    _, generation = live_cache.get(KEY.key_hash)  # a lookup starts...
    live_cache.clear()  # ...a change is heard while it reads Redis...
    live_cache.put(KEY.key_hash, KEY, generation)  # ...and its (possibly stale) answer is dropped
    assert live_cache.get(KEY.key_hash)[0] is None
    _remember(live_cache)
    assert live_cache.get(KEY.key_hash)[0] is KEY


def test_without_its_change_feed_the_cache_answers_nothing() -> None:
    def unreachable() -> PubSub:
        raise RedisConnectionError("Redis is unreachable")

    cache = KeyCache(unreachable, ttl=60)
    for _ in range(3):
        _remember(cache)
        assert cache.get(KEY.key_hash)[0] is None
        time.sleep(0.05)
    assert not cache.live


def test_entries_expire_even_while_the_feed_is_quiet(redis_conn: Redis) -> None:
    # A 1 s TTL: the read right after remembering must fall inside it even on a loaded machine.
    cache = KeyCache(ApiKeyRepository(redis_conn, Keys("openwa")).subscribe_to_changes, ttl=1.0)
    cache.get(KEY.key_hash)
    _until(lambda: cache.live)
    _remember(cache)
    assert cache.get(KEY.key_hash)[0] is KEY
    time.sleep(1.1)
    assert cache.get(KEY.key_hash)[0] is None


def _until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError(f"not within {timeout} s")
