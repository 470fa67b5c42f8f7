"""Traffic statistics (issue 18): `/api/stats/overview`, `/messages`, `/sessions/{id}` in upstream's shapes,
read from the counters a session process writes as messages go by (`runner.counters.MessageCounters`, used
here as the session process uses it), with upstream's roles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from functions.config import Settings
from functions.core.enums import SessionStatus
from functions.state.keys import Keys
from functions.state.session_data import purge_session, session_keys
from functions.state.sessions import SessionRepository
from runner.counters import MessageCounters

ANA, BOB = "15550001111@c.us", "15550002222@c.us"


def _session(client: FlaskClient, headers: dict[str, str], name: str) -> str:
    created = client.post("/api/sessions", json={"name": name}, headers=headers)
    assert created.status_code == 201
    return str(created.get_json()["id"])


def _traffic(redis_conn: Redis, settings: Settings, session_id: str) -> None:
    """Three messages to Ana (two sent, one received), one image to Bob, one failure."""
    counters = MessageCounters(redis_conn, Keys(settings.redis_prefix), session_id)

    def record(chat: str, kind: str = "text") -> dict[str, Any]:
        return {"sessionId": session_id, "chatId": chat, "type": kind}

    counters.sent(record(ANA))
    counters.sent(record(ANA))
    counters.recorded("incoming", record(ANA))
    counters.recorded("outgoing", record(BOB, "image"))
    counters.failed()


def test_stats_move_after_traffic_in_upstreams_shapes(
    client: FlaskClient, admin_headers: dict[str, str], settings: Settings, redis_conn: Redis
) -> None:
    session_id = _session(client, admin_headers, "busy")
    _session(client, admin_headers, "idle")
    SessionRepository(redis_conn, Keys(settings.redis_prefix)).update(session_id, status=SessionStatus.READY)
    before = client.get("/api/stats/overview", headers=admin_headers).get_json()
    assert before["messages"] == {"sent": 0, "received": 0, "failed": 0, "today": {"sent": 0, "received": 0}}

    _traffic(redis_conn, settings, session_id)

    overview = client.get("/api/stats/overview", headers=admin_headers).get_json()
    assert overview["sessions"] == {"active": 1, "total": 2, "byStatus": {"ready": 1, "created": 1}}
    assert overview["messages"] == {
        "sent": 3,
        "received": 1,
        "failed": 1,
        "today": {"sent": 3, "received": 1},
    }

    day = client.get("/api/stats/messages", headers=admin_headers).get_json()
    assert len(day["timeSeries"]) == 24
    this_hour = datetime.now(UTC).strftime("%Y-%m-%d %H:00:00")
    assert day["timeSeries"][-1] == {"timestamp": this_hour, "sent": 3, "received": 1}
    assert day["byType"] == {"text": 3, "image": 1}
    assert day["bySession"] == [{"sessionId": session_id, "name": "busy", "sent": 3, "received": 1}]
    assert day["topChats"] == [
        {"chatId": ANA, "chatName": None, "messageCount": 3},
        {"chatId": BOB, "chatName": None, "messageCount": 1},
    ]
    month = client.get("/api/stats/messages?period=30d", headers=admin_headers).get_json()
    assert len(month["timeSeries"]) == 30
    assert month["timeSeries"][-1] == {
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%d"),
        "sent": 3,
        "received": 1,
    }

    mine = client.get(f"/api/stats/sessions/{session_id}", headers=admin_headers).get_json()
    assert mine["session"] == {"id": session_id, "name": "busy", "status": "ready"}
    assert mine["messages"] == {"sent": 3, "received": 1, "today": 4, "failed": 1}
    assert [(c["chatId"], c["count"]) for c in mine["topChats"]] == [(ANA, 3), (BOB, 1)]
    assert all(c["lastActive"].endswith("Z") for c in mine["topChats"])
    assert [h["hour"] for h in mine["hourlyActivity"]] == list(range(24))
    now_hour = mine["hourlyActivity"][datetime.now(UTC).hour]
    assert (now_hour["sent"], now_hour["received"]) == (3, 1)


@pytest.mark.parametrize("query", ["period=1y", "period=", "period=24H"])
def test_an_unknown_period_is_400(client: FlaskClient, admin_headers: dict[str, str], query: str) -> None:
    refused = client.get(f"/api/stats/messages?{query}", headers=admin_headers)
    assert (refused.status_code, refused.get_json()["code"]) == (400, "VALIDATION_ERROR")


def test_deployment_stats_are_for_unscoped_admins_and_session_stats_for_keys_that_see_the_session(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    mine, other = _session(client, admin_headers, "mine"), _session(client, admin_headers, "other")

    def key(role: str, **extra: Any) -> dict[str, str]:
        body = {"name": f"{role}-stats", "role": role, **extra}
        return {
            "X-API-Key": client.post("/api/auth/api-keys", json=body, headers=admin_headers).get_json()[
                "apiKey"
            ]
        }

    viewer, scoped_admin = key("viewer"), key("admin", allowedSessions=[mine])
    for path in ("/api/stats/overview", "/api/stats/messages"):
        assert client.get(path, headers=viewer).status_code == 403
        assert client.get(path, headers=scoped_admin).status_code == 403
        assert client.get(path).status_code == 401
    assert client.get(f"/api/stats/sessions/{mine}", headers=viewer).status_code == 200
    assert client.get(f"/api/stats/sessions/{mine}", headers=scoped_admin).status_code == 200
    assert client.get(f"/api/stats/sessions/{other}", headers=scoped_admin).status_code == 401
    missing = client.get("/api/stats/sessions/no-such-session", headers=admin_headers)
    assert (missing.status_code, missing.get_json()["code"]) == (404, "SESSION_NOT_FOUND")


def test_a_deleted_sessions_counters_go_with_it(
    client: FlaskClient, admin_headers: dict[str, str], settings: Settings, redis_conn: Redis
) -> None:
    session_id = _session(client, admin_headers, "gone")
    _traffic(redis_conn, settings, session_id)
    keys = Keys(settings.redis_prefix)
    assert {name.rsplit(":", 1)[1] for name in session_keys(redis_conn, keys, session_id)} >= {
        "message-totals",
        "top-chats",
        "chat-last",
    }
    assert client.delete(f"/api/sessions/{session_id}", headers=admin_headers).status_code == 204
    purge_session(redis_conn, keys, session_id)  # what the purge job does
    assert session_keys(redis_conn, keys, session_id) == []
    day = client.get("/api/stats/messages", headers=admin_headers).get_json()
    assert day["bySession"] == [{"sessionId": session_id, "name": "Unknown", "sent": 3, "received": 1}]
