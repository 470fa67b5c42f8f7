"""Point-in-time figures about the whole deployment, read at metrics scrape time: sessions by status, the
live runners with their capacity, and the webhook backlog. Read-only; four round trips per call."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from redis import Redis

from functions.core.enums import SessionStatus
from functions.queueing import WEBHOOKS_READY_KEY
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys
from functions.state.runners import live_runners
from functions.state.sessions import SessionRepository


@dataclass(frozen=True)
class RunnerCapacity:
    """A live runner: how many sessions it holds and may hold (its MAX_SESSIONS)."""

    id: str
    held: int
    max_sessions: int

    @property
    def free(self) -> int:
        return max(0, self.max_sessions - self.held)


@dataclass
class FleetSnapshot:
    sessions_by_status: dict[SessionStatus, int] = field(default_factory=dict)
    sessions_restricted: int = 0
    runners: list[RunnerCapacity] = field(default_factory=list)
    webhook_dead_letters: int = 0
    webhook_inflight: int = 0
    webhook_ready: int = 0

    @property
    def sessions_total(self) -> int:
        return sum(self.sessions_by_status.values())


def read_fleet(conn: Redis, keys: Keys, *, default_max_sessions: int) -> FleetSnapshot:
    """Sessions by status (every status, zeros included), live runners, webhook backlog. A runner whose
    heartbeat does not state its MAX_SESSIONS is taken to run with `default_max_sessions`."""
    repo = SessionRepository(conn, keys)
    sessions = repo.get_many(repo.all_ids())
    by_status = Counter(session.status for session in sessions)
    snapshot = FleetSnapshot(
        sessions_by_status={status: by_status[status] for status in SessionStatus},
        sessions_restricted=sum(1 for session in sessions if session.restriction),
        runners=[
            RunnerCapacity(beat.id, len(beat.sessions), beat.max_sessions or default_max_sessions)
            for beat in live_runners(conn, keys)
        ],
    )
    with translate_redis_errors(), conn.pipeline(transaction=False) as pipe:
        pipe.zcard(keys.delivery_failures)
        pipe.zcard(keys.deliveries_inflight)
        pipe.llen(WEBHOOKS_READY_KEY)
        snapshot.webhook_dead_letters, snapshot.webhook_inflight, snapshot.webhook_ready = pipe.execute()
    return snapshot
