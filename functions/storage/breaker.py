"""A circuit breaker over storage calls: while storage is known to be down, fail at once.

A refused connection fails a call in milliseconds, but a storage server that hangs holds each call for its
whole timeout and retries (seconds), and every send with media, media download and auth snapshot waits that
long. After `failures` consecutive StorageUnavailable the breaker opens: calls raise StorageUnavailable at
once (503 on the request path, a retry later in the runner) for `reset_seconds`; then one call is let
through, and its success closes the breaker again. A health probe that reaches storage closes it too.
Answers that are the caller's fault (a missing object, a bad key) never count. PyPI `pybreaker` keeps the
state (per process: each process learns storage is down from its own calls).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import pybreaker

from functions.core.errors import StorageUnavailable

if TYPE_CHECKING:
    from functions.config import Settings

T = TypeVar("T")


def _not_an_outage(error: BaseException) -> bool:
    return not isinstance(error, StorageUnavailable)


class StorageBreaker:
    def __init__(self, *, failures: int = 3, reset_seconds: float = 15.0) -> None:
        self.reset_seconds = reset_seconds
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=failures,
            reset_timeout=reset_seconds,
            exclude=[_not_an_outage],
            throw_new_error_on_trip=False,  # the call that trips it fails with its own error
        )

    @property
    def is_open(self) -> bool:
        return self._breaker.current_state == pybreaker.STATE_OPEN

    def call(self, function: Callable[..., T], *args: object) -> T:
        """`function(*args)`, or StorageUnavailable at once while the breaker is open."""
        try:
            return self._breaker.call(function, *args)
        except pybreaker.CircuitBreakerError as exc:
            raise StorageUnavailable(
                "Blob storage is unavailable (recent calls failed); try again shortly",
                details={"reason": "circuit_open", "retryAfterSeconds": round(self.reset_seconds)},
            ) from exc

    def recovered(self) -> None:
        """Storage answered (a health probe): let calls through again."""
        self._breaker.close()


def breaker_from_settings(settings: Settings) -> StorageBreaker:
    return StorageBreaker(
        failures=settings.storage_breaker_failures, reset_seconds=settings.storage_breaker_reset_seconds
    )
