"""OpenWA's reconnect policy (`reference/openwa.md` §3.3), as a small clock-driven state machine.

delay = reconnectBaseDelay x 2^attempt + 0-1 s jitter, capped at 1 h; attempts unlimited unless
`maxReconnectAttempts` is set (0 disables reconnecting); the counter resets after 5 min of stability;
`session.reconnect_loop` fires on every 5th consecutive attempt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

MAX_DELAY_SECONDS = 3600.0
STABLE_RESET_SECONDS = 300.0
LOOP_EVENT_EVERY = 5


@dataclass
class ReconnectPolicy:
    """Decides when a disconnected session reloads its page; `now` is any monotonic clock in seconds."""

    base_delay_ms: int
    max_attempts: int | None = None
    attempts: int = 0
    disconnected_since: float | None = None
    connected_since: float | None = None
    next_delay: float = 0.0

    def connected(self, now: float) -> None:
        self.disconnected_since = None
        if self.connected_since is None:
            self.connected_since = now
        elif now - self.connected_since >= STABLE_RESET_SECONDS:
            self.attempts = 0

    def disconnected(self, now: float) -> None:
        self.connected_since = None
        if self.disconnected_since is None:
            self.disconnected_since = now
            self.next_delay = self.delay(self.attempts)

    def delay(self, attempt: int) -> float:
        exponential = self.base_delay_ms / 1000 * 2.0**attempt
        return min(exponential + random.random(), MAX_DELAY_SECONDS)  # jitter, not a secret

    def due(self, now: float) -> bool:
        """Whether to attempt a reconnect now (only while disconnected and within the budget)."""
        return (
            self.disconnected_since is not None
            and not self.exhausted
            and now - self.disconnected_since >= self.next_delay
        )

    def attempted(self, now: float) -> bool:
        """Record an attempt; returns whether this one should fire `session.reconnect_loop`."""
        self.attempts += 1
        self.disconnected_since = now
        self.next_delay = self.delay(self.attempts)
        return self.attempts % LOOP_EVENT_EVERY == 0

    @property
    def exhausted(self) -> bool:
        return self.max_attempts is not None and self.attempts >= self.max_attempts
