"""Redis connections from settings; translating connection failures into `StateUnavailable`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from functions.config import Settings
from functions.core.errors import StateUnavailable


def redis_from_settings(settings: Settings) -> Redis:
    """A pooled client. Short timeouts: a dead Redis must fail a request fast, not hang a worker."""
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=3,
        socket_timeout=5,
        health_check_interval=30,
        retry_on_timeout=True,
    )


@contextmanager
def translate_redis_errors() -> Iterator[None]:
    """Turn Redis transport failures into the domain's 503."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise StateUnavailable(details={"reason": str(exc)}) from exc
