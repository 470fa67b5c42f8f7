"""The official OpenWA Python SDK, unchanged, against a live gateway (gunicorn, real Redis).

Sessions through `client.sessions`, API keys through `client.request` (the SDK has no resource for them),
and the raw HTTP details the SDK hides (status codes, headers, requests with no key) through httpx.
No runner is running, so sessions never get past `initializing` and runner commands time out.
"""

from __future__ import annotations

import json
import time
import typing
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from openwa import (
    OpenWAApiError,
    OpenWAAuthError,
    OpenWAClient,
    OpenWAConflictError,
    OpenWAForbiddenError,
    OpenWANotFoundError,
)
from openwa.types import SessionConfig, SessionResponse
from redis import Redis

if TYPE_CHECKING:
    from tests.e2e.conftest import Gateway

pytestmark = pytest.mark.e2e

KEYS = "/api/auth/api-keys"
SESSION_STATUSES = typing.get_args(typing.get_type_hints(SessionResponse)["status"])


def parse_iso(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, f"{value!r} is not timezone-aware"
    return moment


def create_key(admin: OpenWAClient, name: str, role: str = "operator", **fields: Any) -> dict[str, Any]:
    key: dict[str, Any] = admin.request("POST", KEYS, body={"name": name, "role": role, **fields})
    return key


# ── Sessions ────────────────────────────────────────────────────────────────


def test_admin_creates_lists_gets_and_deletes_sessions(gateway: Gateway) -> None:
    admin = gateway.client()

    alpha = admin.sessions.create({"name": "alpha"})
    beta = admin.sessions.create({"name": "beta-2"})

    hints = typing.get_type_hints(SessionResponse, include_extras=True)
    assert set(alpha) == set(hints), "the session has exactly the SDK's SessionResponse fields"
    uuid.UUID(alpha["id"])
    assert alpha["name"] == "alpha"
    assert alpha["status"] == "created"
    assert alpha["status"] in SESSION_STATUSES
    assert alpha["engineLoaded"] is False
    assert alpha["phone"] is None
    assert alpha["pushName"] is None
    assert alpha["lastError"] is None
    assert alpha["connectedAt"] is None
    assert alpha["restriction"] is None
    assert parse_iso(alpha["createdAt"]) <= parse_iso(alpha["updatedAt"])
    assert abs(parse_iso(alpha["createdAt"]) - datetime.now(UTC)) < timedelta(minutes=1)

    assert [s["id"] for s in admin.sessions.list()] == [alpha["id"], beta["id"]], "oldest first"
    assert admin.sessions.list({"name": "beta-2"}) == [beta]
    assert admin.sessions.list({"name": "no-such-session"}) == []
    assert [s["id"] for s in admin.sessions.list({"limit": 1, "offset": 1})] == [beta["id"]]
    assert admin.sessions.get(alpha["id"]) == alpha

    assert admin.sessions.delete(alpha["id"]) is None
    with pytest.raises(OpenWANotFoundError) as gone:
        admin.sessions.get(alpha["id"])
    assert gone.value.status == 404
    assert gone.value.code == "SESSION_NOT_FOUND"
    assert admin.sessions.list() == [beta]
    with pytest.raises(OpenWANotFoundError):
        admin.sessions.delete(alpha["id"])


def test_a_second_session_with_the_same_name_is_a_conflict(gateway: Gateway) -> None:
    admin = gateway.client()
    first = admin.sessions.create({"name": "sales"})

    with pytest.raises(OpenWAConflictError) as conflict:
        admin.sessions.create({"name": "sales"})

    assert conflict.value.status == 409
    assert conflict.value.code == "SESSION_NAME_TAKEN"
    body = conflict.value.body
    assert body["statusCode"] == 409
    assert body["error"] == "Conflict"
    assert body["path"] == "/api/sessions"
    assert body["requestId"]
    assert admin.sessions.list() == [first]
    # The name is free again once its session is gone.
    admin.sessions.delete(first["id"])
    assert admin.sessions.create({"name": "sales"})["id"] != first["id"]


def test_start_then_stop_moves_the_session_through_initializing_to_disconnected(gateway: Gateway) -> None:
    admin = gateway.client()
    session = admin.sessions.create({"name": "support"})

    started = admin.sessions.start(session["id"])
    assert started["status"] == "initializing"
    assert started["engineLoaded"] is False, "no runner holds it"
    assert parse_iso(started["updatedAt"]) >= parse_iso(session["updatedAt"])
    assert admin.sessions.get(session["id"])["status"] == "initializing"
    assert admin.sessions.start(session["id"])["status"] == "initializing", "starting twice is harmless"

    stopped = admin.sessions.stop(session["id"])
    assert stopped["status"] == "disconnected"
    assert admin.sessions.get(session["id"])["status"] == "disconnected"
    assert admin.sessions.start(session["id"])["status"] == "initializing", "a stopped session restarts"


def test_config_round_trips_and_null_resets_max_reconnect_attempts_to_unlimited(gateway: Gateway) -> None:
    admin = gateway.client()
    session = admin.sessions.create({"name": "configured", "config": {"reconnectBaseDelay": 2000}})

    config = admin.sessions.get_config(session["id"])
    assert set(config) == set(typing.get_type_hints(SessionConfig))
    assert config == {"autoRejectCalls": False, "maxReconnectAttempts": None, "reconnectBaseDelay": 2000}

    updated = admin.sessions.update_config(
        session["id"], {"maxReconnectAttempts": 5, "autoRejectCalls": True}
    )
    assert updated == {"autoRejectCalls": True, "maxReconnectAttempts": 5, "reconnectBaseDelay": 2000}
    assert admin.sessions.get_config(session["id"]) == updated

    reset = admin.sessions.update_config(session["id"], {"maxReconnectAttempts": None})
    assert reset == {"autoRejectCalls": True, "maxReconnectAttempts": None, "reconnectBaseDelay": 2000}
    assert admin.sessions.get_config(session["id"]) == reset

    with pytest.raises(OpenWAApiError) as invalid:
        admin.sessions.update_config(session["id"], {"maxReconnectAttempts": 21})
    assert invalid.value.status == 400
    assert invalid.value.code == "VALIDATION_ERROR"
    assert admin.sessions.get_config(session["id"]) == reset, "a refused patch changes nothing"


def test_stats_count_sessions_by_status(gateway: Gateway) -> None:
    admin = gateway.client()
    empty = admin.sessions.stats()
    assert (empty["total"], empty["active"], empty["ready"], empty["disconnected"]) == (0, 0, 0, 0)

    admin.sessions.create({"name": "idle"})
    running = admin.sessions.create({"name": "running"})
    stopped = admin.sessions.create({"name": "stopped"})
    admin.sessions.start(running["id"])
    admin.sessions.start(stopped["id"])
    admin.sessions.stop(stopped["id"])

    stats = admin.sessions.stats()
    assert stats["total"] == 3
    assert stats["active"] == 1
    assert stats["ready"] == 0
    assert stats["disconnected"] == 1
    assert set(stats["byStatus"]) == set(SESSION_STATUSES)
    assert {status: n for status, n in stats["byStatus"].items() if n} == {
        "created": 1,
        "initializing": 1,
        "disconnected": 1,
    }
    memory = stats["memoryUsage"]
    assert memory["rss"] > 0
    assert all(isinstance(memory[name], int) for name in ("heapUsed", "heapTotal"))


def test_qr_of_a_session_that_has_none_is_400_qr_not_available(gateway: Gateway) -> None:
    admin = gateway.client()
    session = admin.sessions.create({"name": "no-qr-yet"})

    for _ in ("created", "initializing"):
        with pytest.raises(OpenWAApiError) as refused:
            admin.sessions.get_qr_code(session["id"])
        assert refused.value.status == 400
        assert refused.value.code == "QR_NOT_AVAILABLE"
        admin.sessions.start(session["id"])


def test_pairing_code_with_no_runner_answers_504_runner_timeout_within_seconds(gateway: Gateway) -> None:
    admin = gateway.client()
    session = admin.sessions.create({"name": "pair-me"})

    with pytest.raises(OpenWAApiError) as not_started:
        admin.sessions.request_pairing_code(session["id"], {"phoneNumber": "+628123456789"})
    assert not_started.value.status == 400
    assert not_started.value.code == "SESSION_NOT_STARTED"

    admin.sessions.start(session["id"])
    began = time.monotonic()
    with pytest.raises(OpenWAApiError) as timed_out:
        admin.sessions.request_pairing_code(session["id"], {"phoneNumber": "+628123456789"})
    elapsed = time.monotonic() - began

    assert timed_out.value.status == 504
    assert timed_out.value.code == "RUNNER_TIMEOUT"
    assert elapsed < 5.0, f"RUNNER_COMMAND_TIMEOUT_SECONDS=1 but the answer took {elapsed:.1f} s"
    assert admin.sessions.get(session["id"])["status"] == "initializing"


# ── API keys ────────────────────────────────────────────────────────────────


def test_admin_creates_lists_updates_revokes_and_deletes_api_keys(gateway: Gateway) -> None:
    admin = gateway.client()
    with gateway.http() as http:
        response = http.post(
            KEYS, headers={"X-API-Key": gateway.master_key}, json={"name": "viewer-key", "role": "viewer"}
        )
    assert response.status_code == 201
    viewer = response.json()
    operator = create_key(admin, "operator-key")  # operator is the default role
    second_admin = create_key(admin, "admin-key", "admin")
    created = [viewer, operator, second_admin]

    for key, role in zip(created, ("viewer", "operator", "admin"), strict=True):
        assert key["role"] == role
        assert key["apiKey"].startswith("owa_k1_")
        assert len(key["apiKey"]) == 71
        assert key["keyPrefix"] == key["apiKey"][:11]  # owa_k1_ and 4 characters (issue 22 item 9)
        assert key["isActive"] is True
        assert key["usageCount"] == 0
        assert key["lastUsedAt"] is None
        assert key["allowedIps"] is None
        assert key["allowedSessions"] is None
        assert key["expiresAt"] is None
        uuid.UUID(key["id"])
    assert len({key["apiKey"] for key in created} | {gateway.master_key}) == 4

    listed = admin.request("GET", KEYS)
    assert [key["name"] for key in listed] == ["bootstrap-admin", "viewer-key", "operator-key", "admin-key"]
    listed_text = json.dumps(listed)
    assert "apiKey" not in listed_text
    assert not any(secret in listed_text for secret in [gateway.master_key, *(k["apiKey"] for k in created)])

    fetched = admin.request("GET", f"{KEYS}/{viewer['id']}")
    assert fetched == {name: value for name, value in viewer.items() if name != "apiKey"}
    assert viewer["apiKey"] not in json.dumps(fetched)

    renamed = admin.request("PUT", f"{KEYS}/{operator['id']}", body={"name": "ops-team", "role": "viewer"})
    assert (renamed["name"], renamed["role"]) == ("ops-team", "viewer")
    assert parse_iso(renamed["updatedAt"]) >= parse_iso(operator["updatedAt"])
    assert "apiKey" not in renamed

    revoked = admin.request("POST", f"{KEYS}/{viewer['id']}/revoke")
    assert revoked["isActive"] is False
    revoked_client = gateway.client(viewer["apiKey"])
    for call in (revoked_client.sessions.list, revoked_client.auth, revoked_client.sessions.stats):
        with pytest.raises(OpenWAAuthError) as refused:
            call()
        assert refused.value.status == 401

    assert admin.request("DELETE", f"{KEYS}/{operator['id']}") is None
    with pytest.raises(OpenWANotFoundError) as gone:
        admin.request("GET", f"{KEYS}/{operator['id']}")
    assert gone.value.code == "API_KEY_NOT_FOUND"
    with pytest.raises(OpenWAAuthError):
        gateway.client(operator["apiKey"]).sessions.list()
    assert [key["name"] for key in admin.request("GET", KEYS)] == [
        "bootstrap-admin",
        "viewer-key",
        "admin-key",
    ]
    assert gateway.client(second_admin["apiKey"]).auth()["role"] == "admin"


def test_a_revoked_key_is_refused_at_once_by_every_api_process(gateway: Gateway) -> None:
    """Both gunicorn workers serve a key they know from memory, without a Redis lookup, yet refuse it as
    soon as it is revoked: the worker that revoked it at once, the other when the change's message
    reaches it, far sooner than the 5 s the cache could otherwise keep it."""
    admin = gateway.client()
    key = create_key(admin, "cached-key", "viewer")
    conn = Redis.from_url(gateway.settings.redis_url)

    def statuses(count: int) -> list[int]:
        codes = []
        for _ in range(count):  # a new connection each time, so both workers take some
            with gateway.http() as http:
                response = http.post("/api/auth/validate", headers={"X-API-Key": key["apiKey"]})
            codes.append(response.status_code)
        return codes

    def lookups_during(count: int) -> int:
        before = conn.info("commandstats").get("cmdstat_hget", {}).get("calls", 0)
        assert statuses(count) == [200] * count
        return int(conn.info("commandstats").get("cmdstat_hget", {}).get("calls", 0) - before)

    statuses(30)  # both workers learn the key (and flush its first usage count, which clears the caches)
    # A lookup is two HGETs: without the cache these 40 requests would cost 80. With it, a worker looks the
    # key up again only when its entry expires (5 s) or a write clears it (the usage count, flushed per
    # worker every 30 s): a handful at most.
    assert lookups_during(40) <= 12

    admin.request("POST", f"{KEYS}/{key['id']}/revoke")
    time.sleep(0.1)
    assert statuses(20) == [401] * 20
    conn.close()


def test_the_only_admin_key_cannot_be_removed_until_a_second_admin_exists(gateway: Gateway) -> None:
    bootstrap = gateway.client()
    [only] = bootstrap.request("GET", KEYS)
    assert (only["name"], only["role"]) == ("bootstrap-admin", "admin")
    item = f"{KEYS}/{only['id']}"
    lockouts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("DELETE", item, None),
        ("POST", f"{item}/revoke", None),
        ("PUT", item, {"role": "operator"}),
        ("PUT", item, {"role": "viewer"}),
        ("PUT", item, {"allowedSessions": [str(uuid.uuid4())]}),  # a scoped admin cannot manage keys
    ]
    for method, path, body in lockouts:
        with pytest.raises(OpenWAConflictError) as refused:
            bootstrap.request(method, path, body=body)
        assert refused.value.code == "LAST_ADMIN_KEY", (method, path, body)
    unchanged = bootstrap.request("GET", item)
    usage = {"usageCount", "lastUsedAt"}  # the only fields the refused calls may have moved
    assert {k: v for k, v in unchanged.items() if k not in usage} == {
        k: v for k, v in only.items() if k not in usage
    }
    assert bootstrap.auth()["role"] == "admin"

    successor = gateway.client(create_key(bootstrap, "successor", "admin")["apiKey"])

    demoted = bootstrap.request("PUT", item, body={"role": "operator"})
    assert demoted["role"] == "operator"
    with pytest.raises(OpenWAForbiddenError):
        bootstrap.request("GET", KEYS)
    assert successor.request("PUT", item, body={"role": "admin"})["role"] == "admin"

    assert successor.request("POST", f"{item}/revoke")["isActive"] is False
    with pytest.raises(OpenWAAuthError):
        bootstrap.auth()
    assert successor.request("DELETE", item) is None
    [last] = successor.request("GET", KEYS)
    assert last["name"] == "successor"
    with pytest.raises(OpenWAConflictError) as refused:
        successor.request("DELETE", f"{KEYS}/{last['id']}")
    assert refused.value.code == "LAST_ADMIN_KEY"


def test_an_expiry_on_the_only_admin_key_is_refused(gateway: Gateway) -> None:
    bootstrap = gateway.client()
    [only] = bootstrap.request("GET", KEYS)
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()

    with pytest.raises(OpenWAConflictError) as refused:
        bootstrap.request("PUT", f"{KEYS}/{only['id']}", body={"expiresAt": soon})

    assert refused.value.code == "LAST_ADMIN_KEY"


def test_a_bad_item_in_a_list_field_is_a_400_naming_it(gateway: Gateway) -> None:
    with gateway.http() as http:
        as_admin = http.post(
            KEYS,
            headers={"X-API-Key": gateway.master_key},
            json={"name": "bad-items", "allowedSessions": [""], "allowedIps": ["x" * 65]},
        )
        anonymous = http.post(KEYS, json={"name": "bad-items", "allowedSessions": [None]})

    assert as_admin.status_code == 400, as_admin.text
    assert as_admin.json()["code"] == "VALIDATION_ERROR"
    assert any(line.startswith("allowedSessions.0: ") for line in as_admin.json()["message"])
    # Authentication comes before validation: an anonymous caller learns nothing about the body.
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["code"] != "VALIDATION_ERROR"
    assert "allowedSessions" not in anonymous.text


# ── Roles, scopes and authentication ──────────────────────────────────────────


def test_a_viewer_can_read_sessions_but_not_create_them(gateway: Gateway) -> None:
    admin = gateway.client()
    session = admin.sessions.create({"name": "watched"})
    viewer = gateway.client(create_key(admin, "read-only", "viewer")["apiKey"])

    assert viewer.sessions.list() == [session]
    assert viewer.sessions.get(session["id"]) == session
    assert viewer.auth() == {"valid": True, "role": "viewer", "scoped": False, "engineType": "webjs"}

    with pytest.raises(OpenWAForbiddenError) as refused:
        viewer.sessions.create({"name": "not-allowed"})
    assert refused.value.status == 403
    assert refused.value.body["details"] == {"requiredRole": "operator"}
    for call in (lambda: viewer.sessions.start(session["id"]), lambda: viewer.request("GET", KEYS)):
        with pytest.raises(OpenWAForbiddenError):
            call()
    assert admin.sessions.list() == [session]


def test_a_missing_or_wrong_key_is_401(gateway: Gateway) -> None:
    stranger = gateway.client("owa_k1_" + "0" * 64)
    for call in (stranger.sessions.list, stranger.auth, lambda: stranger.request("GET", KEYS)):
        with pytest.raises(OpenWAAuthError) as refused:
            call()
        assert refused.value.status == 401
        assert refused.value.code == "UNAUTHORIZED"

    with gateway.http() as http:
        for headers in ({}, {"X-API-Key": ""}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
            response = http.get("/api/sessions", headers=headers)
            assert response.status_code == 401, headers
            assert response.json()["code"] == "UNAUTHORIZED"
        assert http.post("/api/auth/validate").status_code == 401
        # ...while the health probes stay public.
        assert http.get("/api/health").json()["status"] == "ok"
        assert "version" not in http.get("/api/health").json()


def test_an_unauthenticated_request_is_401_even_with_an_invalid_body(gateway: Gateway) -> None:
    admin = gateway.client()
    viewer_key = create_key(admin, "too-weak", "viewer")["apiKey"]
    with gateway.http() as http:
        no_key = http.post(KEYS, json={"role": "root"})
        wrong_key = http.get(
            "/api/sessions", params={"limit": 0}, headers={"X-API-Key": "owa_k1_" + "0" * 64}
        )
        viewer = http.post("/api/sessions", json={"name": "!"}, headers={"X-API-Key": viewer_key})

    assert (no_key.status_code, wrong_key.status_code, viewer.status_code) == (401, 401, 403)
    assert "details" not in no_key.json() or "fields" not in no_key.json()["details"]


def test_a_bearer_token_works_like_x_api_key(gateway: Gateway) -> None:
    admin = gateway.client()
    session = admin.sessions.create({"name": "bearer"})
    viewer_key = create_key(admin, "bearer-viewer", "viewer")["apiKey"]

    with gateway.http() as http:
        for key, role in ((gateway.master_key, "admin"), (viewer_key, "viewer")):
            by_header = http.post("/api/auth/validate", headers={"X-API-Key": key})
            by_bearer = http.post("/api/auth/validate", headers={"Authorization": f"Bearer {key}"})
            assert by_header.status_code == by_bearer.status_code == 200
            assert by_header.json() == by_bearer.json()
            assert by_bearer.json()["role"] == role
        listed = http.get("/api/sessions", headers={"Authorization": f"bearer {viewer_key}"})
        assert listed.status_code == 200
        assert [s["id"] for s in listed.json()] == [session["id"]]
        create = http.post(
            "/api/sessions", headers={"Authorization": f"Bearer {viewer_key}"}, json={"name": "nope"}
        )
        assert create.status_code == 403
        wrong = http.get("/api/sessions", headers={"Authorization": "Bearer owa_k1_" + "f" * 64})
        assert wrong.status_code == 401
        assert http.get("/api/health", headers={"Authorization": f"Bearer {viewer_key}"}).json()["version"]


def test_a_session_scoped_key_sees_only_its_sessions(gateway: Gateway) -> None:
    admin = gateway.client()
    mine = admin.sessions.create({"name": "scoped-a"})
    other = admin.sessions.create({"name": "scoped-b"})
    scoped = gateway.client(create_key(admin, "tenant-a", "operator", allowedSessions=[mine["id"]])["apiKey"])

    assert scoped.auth() == {"valid": True, "role": "operator", "scoped": True, "engineType": "webjs"}
    assert scoped.sessions.list() == [mine]
    assert scoped.sessions.list({"name": "scoped-b"}) == []
    assert scoped.sessions.get(mine["id"]) == mine
    assert scoped.sessions.start(mine["id"])["status"] == "initializing"

    with pytest.raises(OpenWAAuthError) as out_of_scope:
        scoped.sessions.get(other["id"])
    assert out_of_scope.value.status == 401
    with pytest.raises(OpenWAAuthError):
        scoped.sessions.delete(other["id"])
    with pytest.raises(OpenWAForbiddenError) as create:
        scoped.sessions.create({"name": "scoped-c"})
    assert create.value.status == 403
    assert create.value.body["details"] == {"requiresUnscoped": True}
    with pytest.raises(OpenWAForbiddenError):
        scoped.request("GET", KEYS)
    assert admin.sessions.get(other["id"])["status"] == "created"


def test_a_key_expiring_in_an_hour_works_now(gateway: Gateway) -> None:
    admin = gateway.client()
    expires_at = datetime.now(UTC) + timedelta(hours=1)
    key = create_key(admin, "short-lived", "viewer", expiresAt=expires_at.isoformat())

    assert abs(parse_iso(key["expiresAt"]) - expires_at) < timedelta(seconds=1)
    assert gateway.client(key["apiKey"]).auth()["valid"] is True
    assert gateway.client(key["apiKey"]).sessions.list() == []

    with pytest.raises(OpenWAApiError) as past:
        create_key(admin, "already-expired", "viewer", expiresAt="2000-01-01T00:00:00Z")
    assert past.value.status == 400
    assert past.value.code == "VALIDATION_ERROR"


def test_allowed_ips_let_in_loopback_only_when_listed(gateway: Gateway) -> None:
    admin = gateway.client()
    elsewhere = create_key(admin, "office-only", "viewer", allowedIps=["10.0.0.0/8"])
    loopback = create_key(admin, "local-only", "viewer", allowedIps=["127.0.0.0/8", "::1/128"])
    assert loopback["allowedIps"] == ["127.0.0.0/8", "::1/128"]

    with pytest.raises(OpenWAAuthError) as refused:
        gateway.client(elsewhere["apiKey"]).sessions.list()
    assert refused.value.status == 401
    assert gateway.client(loopback["apiKey"]).sessions.list() == []

    widened = admin.request(
        "PUT", f"{KEYS}/{elsewhere['id']}", body={"allowedIps": ["10.0.0.0/8", "127.0.0.1"]}
    )
    assert widened["allowedIps"] == ["10.0.0.0/8", "127.0.0.1"]
    assert gateway.client(elsewhere["apiKey"]).sessions.list() == []

    with pytest.raises(OpenWAApiError) as invalid:
        create_key(admin, "bad-cidr", "viewer", allowedIps=["not-an-ip"])
    assert invalid.value.status == 400


# ── Request ids ───────────────────────────────────────────────────────────────


def test_every_response_carries_a_request_id_and_a_sent_one_is_echoed(gateway: Gateway) -> None:
    with gateway.http() as http:
        admin = {"X-API-Key": gateway.master_key}
        answers = [
            http.get("/api/health"),
            http.get("/api/health/ready"),
            http.get("/api/sessions", headers=admin),
            http.get("/api/sessions"),  # 401
            http.get(f"/api/sessions/{uuid.uuid4()}", headers=admin),  # 404
            http.post("/api/sessions", headers=admin, json={"name": "x"}),  # 400
            http.get("/api/no-such-route"),
        ]
        ids = [answer.headers.get("X-Request-ID") for answer in answers]
        assert all(ids), ids
        assert len(set(ids)) == len(ids), "each request gets its own id"
        for answer in answers:
            if answer.status_code >= 400:
                assert answer.json()["requestId"] == answer.headers["X-Request-ID"]

        sent = "trace-" + uuid.uuid4().hex
        echoed = http.get("/api/sessions", headers={**admin, "X-Request-ID": sent})
        assert echoed.headers["X-Request-ID"] == sent
        refused = http.get(f"/api/sessions/{uuid.uuid4()}", headers={**admin, "X-Request-ID": sent})
        assert refused.headers["X-Request-ID"] == sent
        assert refused.json()["requestId"] == sent

        hostile = http.get("/api/health", headers={"X-Request-ID": "bad id\twith spaces"})
        assert hostile.headers["X-Request-ID"] not in {"", "bad id\twith spaces"}
