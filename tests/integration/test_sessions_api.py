"""The sessions API against a real Redis: records, desired state, runner commands and their errors."""

from __future__ import annotations

import base64

from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from functions.core.enums import SessionStatus
from functions.queueing import SessionJob, enqueue_session_job, session_queue_name
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository


def create(client: FlaskClient, headers: dict[str, str], name: str = "sales") -> dict:
    response = client.post("/api/sessions", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def hold_lease(redis_conn: Redis, session_id: str) -> None:
    """Play the runner: it holds a session by owning its lease key (runner issue contract)."""
    redis_conn.set(Keys("openwa").session_lease(session_id), "runner-1", px=60_000)


def test_created_session_is_listed_and_fetched(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    session = create(client, admin_headers)
    assert session["status"] == "created"
    assert session["engineLoaded"] is False
    assert session["createdAt"].endswith("Z")
    listed = client.get("/api/sessions", headers=admin_headers).json
    assert [item["id"] for item in listed] == [session["id"]]
    assert client.get(f"/api/sessions/{session['id']}", headers=admin_headers).json == session


def test_list_paginates_and_filters_by_name(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    ids = [create(client, admin_headers, f"s-{index}")["id"] for index in range(5)]
    page = client.get("/api/sessions?limit=2&offset=1", headers=admin_headers).json
    assert [item["id"] for item in page] == ids[1:3]
    named = client.get("/api/sessions?name=s-3", headers=admin_headers).json
    assert [item["id"] for item in named] == [ids[3]]
    assert client.get("/api/sessions?name=nope", headers=admin_headers).json == []
    assert client.get("/api/sessions?limit=0", headers=admin_headers).status_code == 400


def test_duplicate_name_is_409(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    create(client, admin_headers)
    response = client.post("/api/sessions", json={"name": "sales"}, headers=admin_headers)
    assert response.status_code == 409
    assert response.json["code"] == "SESSION_NAME_TAKEN"


def test_bad_bodies_are_400_naming_the_field(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    for body, field in [
        ({"name": "a"}, "name"),
        ({"name": "has space"}, "name"),
        ({"name": "ok-name", "surprise": 1}, "surprise"),
        ({"name": "ok-name", "config": {"maxReconnectAttempts": 99}}, "config.maxReconnectAttempts"),
        ({"name": "ok-name", "proxyUrl": "ftp://x"}, "proxyUrl"),
        ({}, "name"),
    ]:
        response = client.post("/api/sessions", json=body, headers=admin_headers)
        assert response.status_code == 400, body
        assert response.json["code"] == "VALIDATION_ERROR"
        assert any(line.startswith(f"{field}:") for line in response.json["message"]), response.json
    assert client.get("/api/sessions", headers=admin_headers).json == []


def test_malformed_json_is_400(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    response = client.post(
        "/api/sessions", data="{not json", content_type="application/json", headers=admin_headers
    )
    assert response.status_code == 400
    assert response.json["code"] == "VALIDATION_ERROR"


def test_config_merge_patch_and_null_reset(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    session_id = create(client, admin_headers)["id"]
    url = f"/api/sessions/{session_id}/config"
    assert client.get(url, headers=admin_headers).json == {
        "autoRejectCalls": False,
        "maxReconnectAttempts": None,
        "reconnectBaseDelay": 5000,
    }
    patched = client.patch(
        url, json={"maxReconnectAttempts": 3, "autoRejectCalls": True}, headers=admin_headers
    )
    assert patched.json == {"autoRejectCalls": True, "maxReconnectAttempts": 3, "reconnectBaseDelay": 5000}
    reset = client.patch(url, json={"maxReconnectAttempts": None}, headers=admin_headers)
    assert reset.json["maxReconnectAttempts"] is None
    assert reset.json["autoRejectCalls"] is True
    assert client.patch(url, json={"reconnectBaseDelay": 10}, headers=admin_headers).status_code == 400


def test_start_stop_restart_record_desired_state(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    session_id = create(client, admin_headers)["id"]
    pubsub = redis_conn.pubsub()
    pubsub.subscribe("openwa:runner:wake")
    pubsub.get_message(timeout=1)
    started = client.post(f"/api/sessions/{session_id}/start", headers=admin_headers)
    assert started.status_code == 200
    assert started.json["status"] == "initializing"
    wake = pubsub.get_message(timeout=2)
    assert wake is not None
    assert wake["data"] == session_id.encode()
    repo = SessionRepository(redis_conn, Keys("openwa"))
    assert repo.get(session_id).desired_state.value == "running"  # type: ignore[union-attr]
    stopped = client.post(f"/api/sessions/{session_id}/stop", headers=admin_headers)
    assert stopped.json["status"] == "disconnected"
    assert repo.get(session_id).desired_state.value == "stopped"  # type: ignore[union-attr]
    client.post(f"/api/sessions/{session_id}/restart", headers=admin_headers)
    assert repo.get(session_id).restart_generation == 1  # type: ignore[union-attr]


def test_qr_as_png_data_url_or_raw(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    session_id = create(client, admin_headers)["id"]
    missing = client.get(f"/api/sessions/{session_id}/qr", headers=admin_headers)
    assert missing.status_code == 400
    assert missing.json["code"] == "QR_NOT_AVAILABLE"
    # The runner reports a QR by writing it to the record.
    SessionRepository(redis_conn, Keys("openwa")).update(
        session_id, status=SessionStatus.QR_READY, qr="2@abc,def,ghi"
    )
    image = client.get(f"/api/sessions/{session_id}/qr", headers=admin_headers).json
    assert image["status"] == "qr_ready"
    assert image["qrCode"].startswith("data:image/png;base64,")
    assert base64.b64decode(image["qrCode"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    raw = client.get(f"/api/sessions/{session_id}/qr?format=raw", headers=admin_headers).json
    assert raw == {"raw": "2@abc,def,ghi", "status": "qr_ready"}


def test_pairing_code_needs_a_started_session_and_a_runner(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    session_id = create(client, admin_headers)["id"]
    url = f"/api/sessions/{session_id}/pairing-code"
    not_started = client.post(url, json={"phoneNumber": "628123456789"}, headers=admin_headers)
    assert not_started.status_code == 400
    assert not_started.json["code"] == "SESSION_NOT_STARTED"
    assert client.post(url, json={"phoneNumber": "12ab"}, headers=admin_headers).status_code == 400
    client.post(f"/api/sessions/{session_id}/start", headers=admin_headers)
    timed_out = client.post(url, json={"phoneNumber": "+628123456789"}, headers=admin_headers)
    assert timed_out.status_code == 504
    assert timed_out.json["code"] == "RUNNER_TIMEOUT"
    # The unanswered command is cancelled, so a runner arriving later cannot act on it.
    assert Queue(session_queue_name(session_id), connection=redis_conn).count == 0


def test_logout_and_force_kill_need_a_loaded_engine(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    session_id = create(client, admin_headers)["id"]
    for command in ("logout", "force-kill"):
        response = client.post(f"/api/sessions/{session_id}/{command}", headers=admin_headers)
        assert response.status_code == 400
        assert response.json["code"] == "SESSION_NOT_STARTED"
    hold_lease(redis_conn, session_id)
    assert client.get(f"/api/sessions/{session_id}", headers=admin_headers).json["engineLoaded"] is True
    killed = client.post(f"/api/sessions/{session_id}/force-kill", headers=admin_headers)
    assert killed.status_code == 200
    assert killed.json["status"] == "disconnected"
    assert SessionRepository(redis_conn, Keys("openwa")).get(session_id).kill_generation == 1  # type: ignore[union-attr]


def test_delete_removes_record_name_and_queued_commands(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    session_id = create(client, admin_headers)["id"]
    enqueue_session_job(redis_conn, session_id, SessionJob.SEND_MESSAGE, "m-1")
    assert client.delete(f"/api/sessions/{session_id}", headers=admin_headers).status_code == 204
    gone = client.get(f"/api/sessions/{session_id}", headers=admin_headers)
    assert gone.status_code == 404
    assert gone.json["code"] == "SESSION_NOT_FOUND"
    assert Queue(session_queue_name(session_id), connection=redis_conn).count == 0
    assert create(client, admin_headers)["name"] == "sales"  # the name is free again


def test_stats_overview_counts_by_status(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    first = create(client, admin_headers, "one")["id"]
    create(client, admin_headers, "two")
    client.post(f"/api/sessions/{first}/start", headers=admin_headers)
    stats = client.get("/api/sessions/stats/overview", headers=admin_headers).json
    assert stats["total"] == 2
    assert stats["active"] == 1
    assert stats["byStatus"]["initializing"] == 1
    assert stats["byStatus"]["created"] == 1
    assert stats["memoryUsage"]["rss"] > 0


def test_proxy_url_needs_admin_and_is_stored_encrypted(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    operator = client.post(
        "/api/auth/api-keys", json={"name": "operator", "role": "operator"}, headers=admin_headers
    ).json["apiKey"]
    body = {"name": "proxied", "proxyUrl": "socks5://user:hunter2@proxy.example:1080"}
    refused = client.post("/api/sessions", json=body, headers={"X-API-Key": operator})
    assert refused.status_code == 403
    created = client.post("/api/sessions", json=body, headers=admin_headers)
    assert created.status_code == 201
    assert "proxyUrl" not in created.json
    stored = redis_conn.get(Keys("openwa").session(created.json["id"]))
    assert stored is not None
    assert b"hunter2" not in stored
