"""API keys and authorisation against a real Redis: roles, scopes, IP lists, expiry, the last admin."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient
from redis import Redis

from functions.config import Settings
from functions.core.clock import utcnow
from functions.state.api_keys import ApiKeyRepository
from functions.state.keys import Keys


def new_key(client: FlaskClient, admin: dict[str, str], **body: object) -> dict:
    body.setdefault("name", f"key-{body.get('role', 'operator')}")
    response = client.post("/api/auth/api-keys", json=body, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def as_key(plaintext: str) -> dict[str, str]:
    return {"X-API-Key": plaintext}


def test_first_boot_seeds_master_key_into_0600_file(
    settings: Settings, client: FlaskClient, master_key: str
) -> None:
    key_file = Path(settings.api_key_file)
    assert key_file.read_text().strip() == master_key
    assert key_file.stat().st_mode & 0o777 == 0o600
    validated = client.post("/api/auth/validate", headers=as_key(master_key))
    assert validated.json == {"valid": True, "role": "admin", "scoped": False, "engineType": "webjs"}


def test_plaintext_is_shown_once_and_only_hash_is_stored(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    created = new_key(client, admin_headers, role="viewer")
    assert created["apiKey"].startswith("owa_k1_")
    assert len(created["apiKey"]) == 71
    assert created["keyPrefix"] == created["apiKey"][:11]  # owa_k1_ and 4 characters (issue 22 item 9)
    listed = client.get("/api/auth/api-keys", headers=admin_headers)
    assert created["apiKey"] not in listed.get_data(as_text=True)
    fetched = client.get(f"/api/auth/api-keys/{created['id']}", headers=admin_headers).json
    assert "apiKey" not in fetched
    dump = b"".join(value for key in redis_conn.keys("openwa:apikey*") for value in _values(redis_conn, key))
    assert created["apiKey"].encode() not in dump


def _values(conn: Redis, key: bytes) -> list[bytes]:
    kind = conn.type(key)
    if kind == b"hash":
        return list(conn.hgetall(key).values()) + list(conn.hgetall(key).keys())
    return []


def test_missing_wrong_and_bearer_keys(client: FlaskClient, master_key: str) -> None:
    missing = client.get("/api/sessions")
    assert missing.status_code == 401
    assert missing.json["code"] == "UNAUTHORIZED"
    assert client.get("/api/sessions", headers=as_key("owa_k1_" + "0" * 64)).status_code == 401
    assert client.get("/api/sessions", headers={"Authorization": f"Bearer {master_key}"}).status_code == 200
    assert client.get(f"/api/sessions?apiKey={master_key}").status_code == 401


def test_roles_are_minimums(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    viewer = new_key(client, admin_headers, role="viewer")["apiKey"]
    operator = new_key(client, admin_headers, role="operator")["apiKey"]
    assert client.get("/api/sessions", headers=as_key(viewer)).status_code == 200
    refused = client.post("/api/sessions", json={"name": "x-1"}, headers=as_key(viewer))
    assert refused.status_code == 403
    assert refused.json["details"] == {"requiredRole": "operator"}
    assert client.post("/api/sessions", json={"name": "x-1"}, headers=as_key(operator)).status_code == 201
    assert client.get("/api/auth/api-keys", headers=as_key(operator)).status_code == 403


def test_session_scoped_key_sees_only_its_sessions(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    mine = client.post("/api/sessions", json={"name": "mine"}, headers=admin_headers).json["id"]
    other = client.post("/api/sessions", json={"name": "other"}, headers=admin_headers).json["id"]
    scoped = as_key(new_key(client, admin_headers, role="operator", allowedSessions=[mine])["apiKey"])
    assert [item["id"] for item in client.get("/api/sessions", headers=scoped).json] == [mine]
    assert client.get(f"/api/sessions/{mine}", headers=scoped).status_code == 200
    assert client.get(f"/api/sessions/{other}", headers=scoped).status_code == 401
    assert client.post(f"/api/sessions/{other}/start", headers=scoped).status_code == 401
    assert client.post("/api/sessions", json={"name": "more"}, headers=scoped).status_code == 403
    assert client.get("/api/sessions/stats/overview", headers=scoped).json["total"] == 1
    assert client.post("/api/auth/validate", headers=scoped).json["scoped"] is True


def test_allowed_ips_fail_closed(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    elsewhere = new_key(client, admin_headers, allowedIps=["10.0.0.0/8"])["apiKey"]
    local = new_key(client, admin_headers, allowedIps=["127.0.0.0/8", "::1/128"])["apiKey"]
    assert client.get("/api/sessions", headers=as_key(elsewhere)).status_code == 401
    assert client.get("/api/sessions", headers=as_key(local)).status_code == 200
    bad = client.post(
        "/api/auth/api-keys", json={"name": "bad-ip", "allowedIps": ["300.1.1.1"]}, headers=admin_headers
    )
    assert bad.status_code == 400


def test_expired_and_revoked_keys_are_401(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    expiring = new_key(client, admin_headers, expiresAt=soon)
    assert client.get("/api/sessions", headers=as_key(expiring["apiKey"])).status_code == 200
    repo = ApiKeyRepository(redis_conn, Keys("openwa"))
    record = repo.get(expiring["id"])
    assert record is not None
    repo.save(replace(record, expires_at=utcnow() - timedelta(seconds=1)))  # an hour passes
    assert (
        client.get("/api/sessions", headers=as_key(expiring["apiKey"])).json["message"]
        == "API key has expired"
    )
    revoked = new_key(client, admin_headers)
    response = client.post(f"/api/auth/api-keys/{revoked['id']}/revoke", headers=admin_headers)
    assert response.json["isActive"] is False
    assert client.get("/api/sessions", headers=as_key(revoked["apiKey"])).status_code == 401
    past = client.post(
        "/api/auth/api-keys",
        json={"name": "past", "expiresAt": "2001-01-01T00:00:00Z"},
        headers=admin_headers,
    )
    assert past.status_code == 400


def test_last_usable_admin_cannot_be_removed(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    bootstrap = client.get("/api/auth/api-keys", headers=admin_headers).json[0]
    for method, path, body in [
        ("delete", f"/api/auth/api-keys/{bootstrap['id']}", None),
        ("post", f"/api/auth/api-keys/{bootstrap['id']}/revoke", None),
        ("put", f"/api/auth/api-keys/{bootstrap['id']}", {"role": "operator"}),
        ("put", f"/api/auth/api-keys/{bootstrap['id']}", {"allowedSessions": ["s"]}),
    ]:
        response = getattr(client, method)(path, json=body, headers=admin_headers)
        assert response.status_code == 409, (method, path, body)
        assert response.json["code"] == "LAST_ADMIN_KEY"
    second = new_key(client, admin_headers, role="admin", name="second-admin")
    assert client.delete(f"/api/auth/api-keys/{bootstrap['id']}", headers=admin_headers).status_code == 204
    assert client.get("/api/sessions", headers=admin_headers).status_code == 401
    assert client.get("/api/sessions", headers=as_key(second["apiKey"])).status_code == 200


def test_update_changes_fields_and_unknown_id_is_404(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    key = new_key(client, admin_headers, role="viewer")
    updated = client.put(
        f"/api/auth/api-keys/{key['id']}", json={"name": "renamed", "role": "operator"}, headers=admin_headers
    ).json
    assert (updated["name"], updated["role"]) == ("renamed", "operator")
    missing = client.get("/api/auth/api-keys/nope", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json["code"] == "API_KEY_NOT_FOUND"
    assert (
        client.put("/api/auth/api-keys/nope", json={"name": "abc"}, headers=admin_headers).status_code == 404
    )


def test_key_usage_is_tracked(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    key = new_key(client, admin_headers)
    client.get("/api/sessions", headers=as_key(key["apiKey"]))
    fetched = client.get(f"/api/auth/api-keys/{key['id']}", headers=admin_headers).json
    assert fetched["usageCount"] >= 1
    assert fetched["lastUsedAt"] is not None


def test_key_lifecycle_is_audited(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    key = new_key(client, admin_headers)
    client.post(f"/api/auth/api-keys/{key['id']}/revoke", headers=admin_headers)
    from functions.state.audit import AuditLog

    entries, _total = AuditLog(redis_conn, Keys("openwa"), max_entries=1000, retention_days=1).query()
    assert [entry.action for entry in entries][:2] == ["api_key_revoked", "api_key_created"]
    assert entries[0].api_key_name == "bootstrap-admin"
    assert entries[0].metadata["requestId"]
