"""`GET /api/audit`: who did what to which key or session, and who was refused, newest first, for admins;
refusals are sampled (one entry per key prefix and client IP per minute) but all counted in the metrics."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from redis import Redis

from functions.core.clock import iso, utcnow
from functions.core.models import AuditEntry
from functions.state.audit import AuditLog
from functions.state.keys import Keys
from runner.leases import LeaseStore
from tests.integration.scrape import scrape

KEYS = Keys("openwa")


def new_key(client: FlaskClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("name", f"key-{body.get('role', 'operator')}")
    response = client.post("/api/auth/api-keys", json=body, headers=admin)
    assert response.status_code == 201, response.json
    return dict(response.json)


def audit(client: FlaskClient, admin: dict[str, str], **query: Any) -> dict[str, Any]:
    response = client.get("/api/audit", query_string=query, headers=admin)
    assert response.status_code == 200, response.json
    return dict(response.json)


def actions(page: dict[str, Any]) -> list[str]:
    return [entry["action"] for entry in page["data"]]


def test_key_lifecycle_is_audited_with_the_acting_key(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    key = new_key(client, admin_headers)
    client.put(f"/api/auth/api-keys/{key['id']}", json={"name": "renamed"}, headers=admin_headers)
    client.post(f"/api/auth/api-keys/{key['id']}/revoke", headers=admin_headers)
    client.delete(f"/api/auth/api-keys/{key['id']}", headers=admin_headers)

    page = audit(client, admin_headers, action="api_key_updated")
    assert page["total"] == 1
    [updated] = page["data"]
    assert updated["apiKeyName"] == "bootstrap-admin"  # the actor; the target is in the metadata
    assert updated["metadata"]["apiKeyId"] == key["id"]
    assert updated["metadata"]["fields"] == ["name"]
    assert updated["metadata"]["requestId"]
    assert (updated["method"], updated["path"]) == ("PUT", f"/api/auth/api-keys/{key['id']}")
    assert updated["severity"] == "info"
    everything = audit(client, admin_headers, apiKeyId=updated["apiKeyId"])
    assert actions(everything) == ["api_key_deleted", "api_key_revoked", "api_key_updated", "api_key_created"]


def test_session_lifecycle_is_audited_under_openwas_action_names(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    session_id = client.post("/api/sessions", json={"name": "lifecycle"}, headers=admin_headers).json["id"]
    client.post(f"/api/sessions/{session_id}/start", headers=admin_headers)
    client.patch(f"/api/sessions/{session_id}/config", json={"autoRejectCalls": True}, headers=admin_headers)
    client.post(f"/api/sessions/{session_id}/restart", headers=admin_headers)
    client.post(f"/api/sessions/{session_id}/stop", headers=admin_headers)
    client.post(f"/api/sessions/{session_id}/start", headers=admin_headers)
    LeaseStore(redis_conn, KEYS, 30).claim(session_id, "runner-a")  # a runner holds it: force-kill works
    assert client.post(f"/api/sessions/{session_id}/force-kill", headers=admin_headers).status_code == 200
    client.delete(f"/api/sessions/{session_id}", headers=admin_headers)
    client.post("/api/sessions", json={"name": "other"}, headers=admin_headers)

    page = audit(client, admin_headers, sessionId=session_id)
    assert actions(page) == [
        "session_deleted",
        "session_force_killed",
        "session_started",
        "session_stopped",
        "session_restarted",
        "session_config_updated",
        "session_started",
        "session_created",
    ]
    assert page["total"] == 8
    assert {
        entry["sessionName"] for entry in page["data"] if entry["action"] != "session_config_updated"
    } == {"lifecycle"}


def test_refused_requests_are_audited_once_a_minute_per_ip_or_valid_key_but_all_counted(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    wrong = {"X-API-Key": "owa_k1_" + "ab" * 32}
    for _ in range(3):
        assert client.get("/api/sessions", headers=wrong).status_code == 401
    # A new junk key for every request from the same address: still that address's one entry a minute.
    for _ in range(50):
        junk = {"X-API-Key": "owa_k1_" + secrets.token_hex(32)}
        assert client.get("/api/sessions", headers=junk).status_code == 401
    assert client.get("/api/sessions").status_code == 401
    elsewhere = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/api/sessions", headers=wrong, environ_base=elsewhere).status_code == 401
    not_a_key = {"Authorization": "Bearer some-password"}
    assert (
        client.get("/api/sessions", headers=not_a_key, environ_base={"REMOTE_ADDR": "10.4.5.6"}).status_code
        == 401
    )
    assert client.get("/api/sessions", environ_base={"REMOTE_ADDR": "10.7.8.9"}).status_code == 401
    viewer = new_key(client, admin_headers, role="viewer")
    for _ in range(2):
        assert client.get("/api/auth/api-keys", headers={"X-API-Key": viewer["apiKey"]}).status_code == 403

    page = audit(client, admin_headers, action="api_key_auth_failed")
    assert page["total"] == 5
    forbidden, no_key, shapeless, other_ip, invalid = page["data"]
    assert (invalid["statusCode"], invalid["severity"]) == (401, "warn")
    assert invalid["errorMessage"] == "Invalid API key"
    assert invalid["metadata"]["keyPrefix"] == "owa_k1_abab"  # the fixed prefix and 4 characters (item 9)
    assert (invalid["ipAddress"], other_ip["ipAddress"]) == ("127.0.0.1", "10.1.2.3")
    assert shapeless["metadata"]["keyPrefix"] is None  # not a key's shape: nothing of it is kept
    assert (no_key["ipAddress"], no_key["metadata"]["keyPresented"]) == ("10.7.8.9", False)
    assert (forbidden["statusCode"], forbidden["apiKeyId"]) == (403, viewer["id"])

    seen = scrape(client, admin_headers)
    assert seen.value("openwa_auth_failures_total", status="401") == 57
    assert seen.value("openwa_auth_failures_total", status="403") == 2


def test_filters_time_window_and_cursor_paging(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    started = utcnow()
    for number in range(7):
        client.post("/api/sessions", json={"name": f"paged-{number}"}, headers=admin_headers)
    new_key(client, admin_headers)

    everything = audit(client, admin_headers, limit=200)
    assert everything["total"] == 8
    assert everything["nextCursor"] is None
    assert audit(client, admin_headers, severity="warn")["total"] == 0
    assert audit(client, admin_headers, since=iso(started + timedelta(hours=1)))["total"] == 0
    assert audit(client, admin_headers, until=iso(started - timedelta(hours=1)))["total"] == 0
    assert audit(client, admin_headers, since=iso(started), until=iso(utcnow()))["total"] == 8

    created = audit(client, admin_headers, action="session_created", limit=3, offset=1)
    assert created["total"] == 7
    assert [e["sessionName"] for e in created["data"]] == ["paged-5", "paged-4", "paged-3"]

    names, query = [], {"action": "session_created", "limit": 3}
    while True:
        page = audit(client, admin_headers, **query)
        names += [entry["sessionName"] for entry in page["data"]]
        if page["nextCursor"] is None:
            break
        query["cursor"] = page["nextCursor"]
    assert names == [f"paged-{number}" for number in reversed(range(7))]
    assert audit(client, admin_headers, cursor="0-0") == {"data": [], "total": 0, "nextCursor": None}


def test_a_filtered_query_counts_and_pages_across_the_whole_log(redis_conn: Redis) -> None:
    log = AuditLog(redis_conn, KEYS, max_entries=10_000, retention_days=1)
    for number in range(2500):  # more than one scan batch
        log.record(
            AuditEntry(action="session_started" if number % 2 else "session_stopped", session_id=str(number))
        )
    entries, total = log.query(action="session_started", limit=2, offset=1000)
    assert total == 1250
    assert [entry.session_id for entry in entries] == ["499", "497"]
    older, remaining = log.query(action="session_started", limit=1, before=entries[-1].id)
    assert (remaining, older[0].session_id) == (248, "495")


def test_only_unscoped_admins_read_the_audit_log_and_bad_queries_are_400(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    session_id = client.post("/api/sessions", json={"name": "scope"}, headers=admin_headers).json["id"]
    operator = new_key(client, admin_headers, role="operator")
    scoped = new_key(client, admin_headers, name="scoped-admin", role="admin", allowedSessions=[session_id])
    assert client.get("/api/audit").status_code == 401
    assert client.get("/api/audit", headers={"X-API-Key": operator["apiKey"]}).status_code == 403
    assert client.get("/api/audit", headers={"X-API-Key": scoped["apiKey"]}).status_code == 403

    for query in (
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"cursor": "yesterday"},
        {"severity": "loud"},
        {"action": "DROP TABLE"},
        {"since": "not-a-date"},
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ):
        response = client.get("/api/audit", query_string=query, headers=admin_headers)
        assert (response.status_code, response.json["code"]) == (400, "VALIDATION_ERROR"), query
