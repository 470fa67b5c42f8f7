"""Reading runner heartbeats (written by `runner/leases.py`): `<p>:runners` indexes runner ids by last
heartbeat and `<p>:runner:<id>` holds each live runner's JSON body (`pid`, `host`, `sessions` held) with a
PX of one lease TTL, so a runner whose key has expired is gone even if the index still lists it."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from redis import Redis

from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys


@dataclass(frozen=True)
class RunnerHeartbeat:
    """One live runner. `max_sessions` is None unless its heartbeat states it."""

    id: str
    host: str | None
    pid: int | None
    sessions: list[str]
    max_sessions: int | None = None


def _parse(runner_id: str, raw: bytes | str) -> RunnerHeartbeat:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = {}
    body = body if isinstance(body, dict) else {}
    sessions = body.get("sessions")
    limit = body.get("maxSessions")
    return RunnerHeartbeat(
        id=runner_id,
        host=body.get("host") if isinstance(body.get("host"), str) else None,
        pid=body.get("pid") if isinstance(body.get("pid"), int) else None,
        sessions=[str(s) for s in sessions] if isinstance(sessions, list) else [],
        max_sessions=limit if isinstance(limit, int) and limit > 0 else None,
    )


def live_runners(conn: Redis, keys: Keys) -> list[RunnerHeartbeat]:
    """Every runner whose heartbeat key has not expired, oldest registration first (two round trips)."""
    with translate_redis_errors():
        ids = [text(raw) for raw in conn.zrange(keys.runners, 0, -1)]
        if not ids:
            return []
        bodies = conn.mget([keys.runner(runner_id) for runner_id in ids])
    return [_parse(runner_id, body) for runner_id, body in zip(ids, bodies, strict=True) if body]
