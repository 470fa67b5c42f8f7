"""What the API shows and stores about a key is never enough to help guess it: a key's visible prefix is the
fixed `owa_k1_` plus 4 characters (also for records an older version stored with 12), the audit of a refused
key shows no more, and the rate limiter keys its Redis budgets with an HMAC, not with a plain hash of the key
(without a pepper, the stored hash of the key *is* its SHA-256)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from flask.testing import FlaskClient
from redis import Redis

from functions.api.app import create_app
from functions.config import Settings
from functions.state.api_keys import ApiKeyRepository
from functions.state.keys import Keys


def test_a_new_key_shows_the_fixed_prefix_and_four_characters(
    client: FlaskClient, admin_headers: dict[str, str], master_key: str
) -> None:
    created = client.post("/api/auth/api-keys", json={"name": "ops"}, headers=admin_headers).json
    assert created["keyPrefix"] == created["apiKey"][:11] == "owa_k1_" + created["apiKey"][7:11]
    listed = {
        key["name"]: key["keyPrefix"] for key in client.get("/api/auth/api-keys", headers=admin_headers).json
    }
    assert listed["ops"] == created["apiKey"][:11]
    assert all(len(prefix) == 11 for prefix in listed.values())  # the seeded master key too
    assert master_key[:11] in listed.values()


def test_a_key_stored_with_a_longer_prefix_is_shown_with_four_characters(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis, settings: Settings
) -> None:
    created = client.post("/api/auth/api-keys", json={"name": "old"}, headers=admin_headers).json
    repo = ApiKeyRepository(redis_conn, Keys(settings.redis_prefix))
    [record] = [key for key in repo.all() if key.id == created["id"]]
    repo.save(replace(record, key_prefix=created["apiKey"][:12]))  # as versions before issue 22 stored it
    shown = client.get(f"/api/auth/api-keys/{created['id']}", headers=admin_headers).json
    assert shown["keyPrefix"] == created["apiKey"][:11]


def test_a_chosen_master_key_shows_four_characters(make_settings: Any) -> None:
    chosen = "correct-horse-battery-staple-42"
    client = create_app(make_settings(api_master_key=chosen)).test_client()
    [key] = client.get("/api/auth/api-keys", headers={"X-API-Key": chosen}).json
    assert key["keyPrefix"] == chosen[:4]


def test_the_audit_of_a_refused_key_shows_no_more_than_its_prefix(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    wrong = "owa_k1_" + "ab12cd34" * 8
    assert client.get("/api/sessions", headers={"X-API-Key": wrong}).status_code == 401
    entries = client.get("/api/audit?action=api_key_auth_failed", headers=admin_headers).json
    rows = entries["data"] if isinstance(entries, dict) else entries
    assert [row["metadata"]["keyPrefix"] for row in rows] == [wrong[:11]]


def test_the_rate_limiter_keeps_no_plain_hash_of_a_key(
    make_settings: Any, master_key: str, redis_conn: Redis
) -> None:
    settings = make_settings(rate_limit_enabled=True, rate_limit_key="100/minute", rate_limit_ip="100/minute")
    client = create_app(settings).test_client()
    assert client.get("/api/sessions", headers={"X-API-Key": master_key}).status_code == 200
    plain = hashlib.sha256(master_key.encode()).hexdigest()
    limiter_keys = [key.decode() for key in redis_conn.scan_iter(f"*{settings.redis_prefix}:limits/*")]
    assert len(limiter_keys) >= 2, limiter_keys  # one budget per IP, one per key
    assert not any(plain[:16] in key for key in limiter_keys), limiter_keys
