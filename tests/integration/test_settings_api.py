"""`GET /api/settings` against a real Redis: upstream's `{general, api, notifications}` derived from the
environment, only for unscoped admin keys, never a secret, and read-only (no PUT: 405)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from functions.api.app import create_app


def key(client: FlaskClient, admin: dict[str, str], **body: Any) -> dict[str, str]:
    created = client.post("/api/auth/api-keys", json={"name": "settings-key", **body}, headers=admin)
    assert created.status_code == 201, created.json
    return {"X-API-Key": created.json["apiKey"]}


def test_settings_are_derived_from_the_environment(make_settings: Any, admin_headers: dict[str, str]) -> None:
    client = create_app(
        make_settings(
            base_url="https://wa.example.com",
            rate_limit_enabled=True,
            rate_limit_key="40/second;1200/minute;20000/hour",
            log_level="debug",
            enable_swagger=False,
        )
    ).test_client()
    response = client.get("/api/settings", headers=admin_headers)
    assert response.status_code == 200
    assert response.json == {
        "general": {"apiBaseUrl": "https://wa.example.com", "autoReconnect": True, "debugMode": True},
        "api": {"rateLimit": 20000, "rateLimitWindow": 3_600_000, "enableDocs": False},
        "notifications": {"emailEnabled": False, "notificationEmail": "", "webhookAlerts": True},
    }


def test_without_base_url_or_rate_limits_the_listen_address_and_zero_budget_are_reported(
    client: FlaskClient, admin_headers: dict[str, str], master_key: str
) -> None:
    settings = client.get("/api/settings", headers=admin_headers).json
    assert settings["general"]["apiBaseUrl"] == "http://127.0.0.1:2785"
    assert settings["general"]["debugMode"] is False
    assert (settings["api"]["rateLimit"], settings["api"]["rateLimitWindow"]) == (0, 0)
    assert master_key not in str(settings)


def test_only_unscoped_admin_keys_read_settings_and_nobody_writes_them(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    session_id = client.post("/api/sessions", json={"name": "sales"}, headers=admin_headers).json["id"]
    operator = key(client, admin_headers, role="operator")
    scoped_admin = key(client, admin_headers, role="admin", allowedSessions=[session_id])
    assert client.get("/api/settings").status_code == 401
    assert client.get("/api/settings", headers=operator).status_code == 403
    scoped = client.get("/api/settings", headers=scoped_admin)
    assert scoped.status_code == 403
    write = client.put("/api/settings", json={"general": {"debugMode": True}}, headers=admin_headers)
    assert (write.status_code, write.json["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert write.json["details"]["allowed"] == ["GET", "HEAD", "OPTIONS"]
    assert client.get("/api/settings", headers=admin_headers).json["general"]["debugMode"] is False
