"""`GET /api/dashboard/overview` and the per-day message counters behind it, against a real Redis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from functions.core.enums import SessionStatus
from functions.queueing import (
    DEFAULT_QUEUE,
    WEBHOOKS_QUEUE,
    WEBHOOKS_READY_KEY,
    ready_entry,
    session_queue_name,
)
from functions.state.keys import Keys
from functions.state.message_stats import STATS_TTL_SECONDS, daily_counts, record_message
from functions.state.sessions import SessionRepository
from runner.leases import LeaseStore

KEYS = Keys("openwa")


def create_session(client: FlaskClient, headers: dict[str, str], name: str) -> str:
    response = client.post("/api/sessions", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def enqueue(conn: Redis, queue: str, count: int) -> None:
    for _ in range(count):
        Queue(queue, connection=conn).enqueue("os.getpid")


def test_record_message_counts_per_utc_day_and_expires(redis_conn: Redis) -> None:
    late_evening_in_brazil = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-3)))
    record_message(redis_conn, KEYS, "sent", late_evening_in_brazil)  # 02:30 UTC on 2 March
    record_message(redis_conn, KEYS, "sent", datetime(2026, 3, 2, 9, 0))  # naive: taken as UTC
    with redis_conn.pipeline(transaction=True) as pipe:  # in the caller's transaction, sent on execute
        record_message(pipe, KEYS, "received", datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
        assert daily_counts(redis_conn, KEYS, "2026-03-02")["received"] == 0
        pipe.execute()

    assert daily_counts(redis_conn, KEYS, date(2026, 3, 2)) == {"sent": 2, "received": 1}
    assert daily_counts(redis_conn, KEYS, date(2026, 3, 1)) == {"sent": 0, "received": 0}
    assert 0 < redis_conn.ttl(KEYS.message_stats("2026-03-02")) <= STATS_TTL_SECONDS


def test_record_message_refuses_an_unknown_direction(redis_conn: Redis) -> None:
    with pytest.raises(ValueError, match="direction"):
        record_message(redis_conn, KEYS, "forwarded", datetime.now(UTC))  # type: ignore[arg-type]
    assert redis_conn.keys("openwa:message-stats:*") == []


def test_overview_counts_sessions_queues_runners_and_todays_messages(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    ready, waiting, _idle = (
        create_session(client, admin_headers, name) for name in ("ready", "showing-qr", "idle")
    )
    repo = SessionRepository(redis_conn, KEYS)
    repo.update(ready, status=SessionStatus.READY)
    repo.update(waiting, status=SessionStatus.QR_READY)
    enqueue(redis_conn, session_queue_name(ready), 2)
    enqueue(redis_conn, session_queue_name(waiting), 1)
    # The webhooks depth is deliveries due (4), not the drain job that will deliver them.
    enqueue(redis_conn, WEBHOOKS_QUEUE, 1)
    redis_conn.rpush(WEBHOOKS_READY_KEY, *(ready_entry(f"d-{n}", 1) for n in range(4)))
    enqueue(redis_conn, DEFAULT_QUEUE, 1)
    leases = LeaseStore(redis_conn, KEYS, ttl_seconds=30)
    leases.heartbeat("runner-a", [ready, waiting])  # runs with this deployment's MAX_SESSIONS (10)
    leases.heartbeat("runner-b", [], max_sessions=3)  # states its own
    leases.heartbeat("runner-gone", [])
    redis_conn.delete(KEYS.runner("runner-gone"))  # its heartbeat expired: not alive any more
    now = datetime.now(UTC)
    for direction in ("sent", "sent", "received"):
        record_message(redis_conn, KEYS, direction, now)  # type: ignore[arg-type]
    record_message(redis_conn, KEYS, "sent", now - timedelta(days=1))

    response = client.get("/api/dashboard/overview", headers=admin_headers)

    assert response.status_code == 200, response.json
    body = response.json
    assert body["sessions"]["total"] == 3
    assert body["sessions"]["byStatus"] == {
        **{status.value: 0 for status in SessionStatus},
        "created": 1,
        "ready": 1,
        "qr_ready": 1,
    }
    assert body["messages"] == {"day": now.date().isoformat(), "sent": 2, "received": 1}
    assert body["queues"] == {"sessions": 3, "webhooks": 4, "default": 1}
    runners = body["runners"]
    assert (runners["count"], runners["capacity"], runners["held"], runners["free"]) == (2, 13, 2, 11)
    by_id = {item["id"]: item for item in runners["items"]}
    assert (by_id["runner-a"]["sessions"], by_id["runner-a"]["maxSessions"], by_id["runner-a"]["free"]) == (
        2,
        10,
        8,
    )
    assert (by_id["runner-b"]["maxSessions"], by_id["runner-b"]["free"]) == (3, 3)


def test_a_scoped_viewer_sees_only_its_sessions_figures(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    mine, other = (
        create_session(client, admin_headers, "mine"),
        create_session(client, admin_headers, "other"),
    )
    enqueue(redis_conn, session_queue_name(mine), 1)
    enqueue(redis_conn, session_queue_name(other), 5)
    created = client.post(
        "/api/auth/api-keys",
        json={"name": "wallboard", "role": "viewer", "allowedSessions": [mine]},
        headers=admin_headers,
    )
    viewer = {"X-API-Key": created.json["apiKey"]}

    body = client.get("/api/dashboard/overview", headers=viewer).json

    assert body["sessions"]["total"] == 1
    assert body["queues"]["sessions"] == 1


def test_overview_needs_a_key(client: FlaskClient) -> None:
    response = client.get("/api/dashboard/overview")

    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED"


def test_overview_is_documented_with_its_errors(client: FlaskClient) -> None:
    operation = client.get("/api/openapi.json").json["paths"]["/api/dashboard/overview"]["get"]

    assert operation["summary"]
    assert {"200", "401", "403", "429", "500", "503"} <= set(operation["responses"])
    assert operation["security"]
