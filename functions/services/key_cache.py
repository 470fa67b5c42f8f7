"""An API process's cache of API keys found by hash, so that authenticating a request costs no round trip.

Safe because it only answers while it hears every change: each write to a key clears the caches of the
process that made it before returning, and publishes the key's id in its own transaction
(`ApiKeyRepository`), on which a listener thread in every other process clears its cache. So a revoked,
deleted, demoted or re-scoped key stops working in the process that changed it at once, and in the
others as soon as the message arrives (a millisecond or so), not after some delay. While the subscription
is not confirmed (starting, Redis unreachable, connection lost) the cache answers nothing and every lookup
goes to Redis, as without a cache. Entries also expire after `ttl` seconds, bounding the damage of a
subscription that dies silently.

Only keys that were found are cached (a new key needs no invalidation), and the checks that depend on
the request or the clock (active, expiry, client IP) still run on every request, on the cached record.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

from redis.client import PubSub

from functions.core.models import ApiKey
from functions.log import get_logger

log = get_logger(__name__)

RETRY_SECONDS = 1.0
POLL_SECONDS = 5.0


class KeyCache:
    """Key hash -> ApiKey, for `ttl` seconds, served only while `subscribe()`'s feed is confirmed."""

    def __init__(self, subscribe: Callable[[], PubSub], *, ttl: float) -> None:
        self._subscribe = subscribe
        self._ttl = ttl
        self._entries: dict[str, tuple[ApiKey, float]] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped on every clear: a lookup that started before it is not stored
        self._live = False
        self._listener: threading.Thread | None = None

    @property
    def live(self) -> bool:
        return self._live

    def get(self, key_hash: str) -> tuple[ApiKey | None, int]:
        """The cached key (None on a miss) and the generation to hand back to `put` after a lookup."""
        self._ensure_listening()
        with self._lock:
            entry = self._entries.get(key_hash) if self._live else None
            generation = self._generation
        if entry is not None and entry[1] > time.monotonic():
            return entry[0], generation
        return None, generation

    def put(self, key_hash: str, key: ApiKey, generation: int) -> None:
        """Remember a key read from Redis, unless a change was heard since the read began."""
        with self._lock:
            if self._live and generation == self._generation:
                self._entries[key_hash] = (key, time.monotonic() + self._ttl)

    def clear(self, *, live: bool | None = None) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1
            if live is not None:
                self._live = live

    def _ensure_listening(self) -> None:
        # Started on first use, in the process that serves (gunicorn forks its workers after importing).
        if self._listener is None:
            with self._lock:
                if self._listener is None:
                    self._listener = threading.Thread(
                        target=_listen, args=(weakref.ref(self), self._subscribe), name="apikey-changes"
                    )
                    self._listener.daemon = True
                    self._listener.start()


def _listen(cache_ref: weakref.ReferenceType[KeyCache], subscribe: Callable[[], PubSub]) -> None:
    """Clear the cache on every change message; go dark (serve nothing) whenever the feed is down. Holds
    the cache only weakly, so a discarded app's listener ends within POLL_SECONDS."""
    pubsub: PubSub | None = None
    while (cache := cache_ref()) is not None:
        del cache  # never held while blocking
        try:
            pubsub = pubsub or subscribe()
            message = pubsub.get_message(timeout=POLL_SECONDS)
        except Exception as exc:  # Redis down or connection lost: no cache until resubscribed
            _close(pubsub)
            pubsub = None
            if (cache := cache_ref()) is not None:
                cache.clear(live=False)
                del cache
            log.debug("apikey_changes_unavailable", error=f"{type(exc).__name__}: {exc}")
            time.sleep(RETRY_SECONDS)
            continue
        if message is not None and (cache := cache_ref()) is not None:
            # The subscription's confirmation (its first message) turns the cache on; a change clears it.
            cache.clear(live=True if message["type"] == "subscribe" else None)
            del cache
    _close(pubsub)


def _close(pubsub: PubSub | None) -> None:
    if pubsub is not None:
        try:
            pubsub.close()
        except Exception as exc:  # closing a broken connection: nothing left to do
            log.debug("apikey_changes_close_failed", error=f"{type(exc).__name__}: {exc}")
