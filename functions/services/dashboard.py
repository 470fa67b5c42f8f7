"""The dashboard's overview figures: sessions by status, messages today, queue depths and runner capacity.

Read-only and assembled from the state modules in a few round trips. Session figures (counts and the sum
of the `session:<id>` queues) cover the sessions the caller may see; messages, the shared queues and the
runners are gateway-wide. A runner's capacity is its heartbeat's `maxSessions` when it states one, else
this deployment's MAX_SESSIONS, minus the sessions it holds (never below zero).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from redis import Redis

from functions.core.clock import iso, utcnow
from functions.core.enums import SessionStatus
from functions.state.keys import Keys
from functions.state.message_stats import daily_counts, day_of
from functions.state.queue_depths import queue_depths
from functions.state.runners import RunnerHeartbeat, live_runners
from functions.state.sessions import SessionRepository


class DashboardService:
    def __init__(
        self,
        conn: Redis,
        keys: Keys,
        sessions: SessionRepository,
        *,
        max_sessions: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._conn, self._keys, self._sessions = conn, keys, sessions
        self._max_sessions, self._clock = max_sessions, clock

    def overview(self, only: list[str] | None) -> dict[str, Any]:
        """The overview as its wire shape (`DashboardOverviewSchema`); `only` is a scoped key's sessions."""
        now = self._clock()
        sessions = self._sessions.page(limit=10**9, offset=0, only=only)
        by_status = Counter(session.status.value for session in sessions)
        depths = queue_depths(self._conn, [session.id for session in sessions])
        day = day_of(now)
        return {
            "sessions": {
                "total": len(sessions),
                "byStatus": {status.value: by_status[status.value] for status in SessionStatus},
            },
            "messages": {"day": day, **daily_counts(self._conn, self._keys, day)},
            "queues": {"sessions": depths.sessions, "webhooks": depths.webhooks, "default": depths.default},
            "runners": self._runners(live_runners(self._conn, self._keys)),
            "generatedAt": iso(now),
        }

    def _runners(self, heartbeats: list[RunnerHeartbeat]) -> dict[str, Any]:
        items = []
        for beat in heartbeats:
            limit = beat.max_sessions or self._max_sessions
            held = len(beat.sessions)
            items.append(
                {
                    "id": beat.id,
                    "host": beat.host,
                    "pid": beat.pid,
                    "sessions": held,
                    "maxSessions": limit,
                    "free": max(0, limit - held),
                }
            )
        return {
            "count": len(items),
            "capacity": sum(item["maxSessions"] for item in items),
            "held": sum(item["sessions"] for item in items),
            "free": sum(item["free"] for item in items),
            "items": items,
        }
