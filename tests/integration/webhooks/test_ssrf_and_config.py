"""Webhook configuration through the API: the SSRF guard at registration and at delivery (with the
allow-list escape), bad inputs refused with a code, the per-session limit, scopes and roles, and the
synchronous test delivery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from functions.api.app import create_app
from functions.config import Settings
from functions.net.ssrf import TargetRefused, pin
from functions.webhooks.delivery import DeliveryContext, run_attempt
from functions.webhooks.dispatch import publish_event
from tests.integration.webhooks.conftest import Receiver, expected_delivery_id


def _session(client: FlaskClient, headers: dict[str, str], name: str = "cfg") -> str:
    response = client.post("/api/sessions", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    return str(response.json["id"])


# Names the guard answers from SSRF_HOST_OVERRIDES instead of DNS, so every case below gets its code without
# the network: a public address (never connected to, registration only checks) and internal ones.
PUBLIC = "93.184.215.14"
HOSTS = [
    f"hooks.public.test={PUBLIC}",
    "loopback.test=127.0.0.1",
    "private.test=10.1.2.3",
    "metadata.test=169.254.169.254",
    "mapped.test=::ffff:127.0.0.1",
    "nat64.test=64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "sixtofour.test=2002:7f00:1::1",  # 6to4 of 127.0.0.1
    f"nat64-public.test=64:ff9b::{PUBLIC}",
]


@pytest.fixture
def guarded(make_settings: Callable[..., Settings]) -> FlaskClient:
    """An app with the SSRF guard on and nothing allow-listed (the production default)."""
    return create_app(make_settings(ssrf_host_overrides=HOSTS)).test_client()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://loopback.test/hook",  # names resolving to internal addresses
        "http://PRIVATE.test/hook",
        "https://metadata.test/latest/meta-data",
        "http://mapped.test:8080/hook",
        # IPv6 forms that embed an internal IPv4 address, and deprecated or local-use IPv6 ranges
        "http://[::127.0.0.1]/hook",  # IPv4-compatible (deprecated)
        "http://[::10.1.2.3]/hook",
        "http://[::8.8.8.8]/hook",  # deprecated even when what it embeds is public
        "http://[::ffff:0:127.0.0.1]/hook",  # IPv4-translated (SIIT)
        "http://[::ffff:0:8.8.8.8]/hook",
        "http://[64:ff9b::127.0.0.1]/hook",  # NAT64 well-known prefix
        "http://[64:ff9b::10.0.0.1]/hook",
        "http://[64:ff9b:1::10.0.0.1]/hook",  # NAT64 local-use prefix
        "http://[64:ff9b:1::8.8.8.8]/hook",
        "http://[2002:a00:1::1]/hook",  # 6to4 of 10.0.0.1
        "http://[2002:c0a8:101::1]/hook",  # 6to4 of 192.168.1.1
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",  # Teredo, client 10.0.0.1
        "http://[fec0::1]/hook",  # site-local (deprecated)
        "http://[fec0:1234::abcd]/hook",
        "http://nat64.test/latest/meta-data",
        "http://sixtofour.test/hook",
    ],
)
def test_registration_refuses_internal_targets(
    guarded: FlaskClient, admin_headers: dict[str, str], url: str
) -> None:
    session_id = _session(guarded, admin_headers)
    response = guarded.post(f"/api/sessions/{session_id}/webhooks", json={"url": url}, headers=admin_headers)
    assert response.status_code == 400, response.json
    assert response.json["code"] == "WEBHOOK_URL_REFUSED"
    assert "SSRF_ALLOWED_HOSTS" in response.json["message"]  # the refusal says how to allow a host


@pytest.mark.parametrize(
    "url",
    [
        f"http://[64:ff9b::{PUBLIC}]/hook",  # NAT64 of a public address: reachable, allowed
        "http://nat64-public.test/hook",
        "http://[2002:5db8:d70e::1]/hook",  # 6to4 of a public address
        f"http://[::ffff:{PUBLIC}]/hook",
    ],
)
def test_registration_accepts_ipv6_forms_of_public_addresses(
    guarded: FlaskClient, admin_headers: dict[str, str], url: str
) -> None:
    session_id = _session(guarded, admin_headers)
    response = guarded.post(f"/api/sessions/{session_id}/webhooks", json={"url": url}, headers=admin_headers)
    assert response.status_code == 201, response.json


def test_a_refusal_names_the_host_but_not_the_address_it_resolved_to(
    guarded: FlaskClient, admin_headers: dict[str, str]
) -> None:
    session_id = _session(guarded, admin_headers)
    for url, address in (("http://private.test/hook", "10.1.2.3"), ("http://nat64.test/x", "a9fe")):
        response = guarded.post(
            f"/api/sessions/{session_id}/webhooks", json={"url": url}, headers=admin_headers
        )
        assert (response.status_code, response.json["code"]) == (400, "WEBHOOK_URL_REFUSED")
        assert response.json["details"] == {"host": url.split("/")[2]}
        assert address not in response.get_data(as_text=True)


def test_registration_accepts_a_public_name_and_refuses_one_that_cannot_resolve(
    guarded: FlaskClient, admin_headers: dict[str, str]
) -> None:
    session_id = _session(guarded, admin_headers)
    base = f"/api/sessions/{session_id}/webhooks"
    accepted = guarded.post(base, json={"url": "https://hooks.public.test/in"}, headers=admin_headers)
    assert accepted.status_code == 201, accepted.json
    # An empty label fails IDNA encoding before any query is sent: unresolvable without the network.
    refused = guarded.post(base, json={"url": "https://bad..name/in"}, headers=admin_headers)
    assert refused.status_code == 400, refused.json
    assert refused.json["code"] == "WEBHOOK_URL_UNRESOLVABLE"


def test_allow_listed_hosts_are_accepted(
    make_settings: Callable[..., Settings], admin_headers: dict[str, str]
) -> None:
    client = create_app(make_settings(ssrf_allowed_hosts=["127.0.0.1", "localhost"])).test_client()
    session_id = _session(client, admin_headers)
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook"):
        response = client.post(
            f"/api/sessions/{session_id}/webhooks", json={"url": url}, headers=admin_headers
        )
        assert response.status_code == 201, response.json
    response = client.post(
        f"/api/sessions/{session_id}/webhooks", json={"url": "http://10.0.0.1/"}, headers=admin_headers
    )
    assert response.json["code"] == "WEBHOOK_URL_REFUSED"


def test_delivery_rechecks_the_target_and_records_the_refusal(
    make_settings: Callable[..., Settings],
    redis_conn: Redis,
    admin_headers: dict[str, str],
    receiver: Receiver,
) -> None:
    permissive = make_settings(ssrf_allowed_hosts=["127.0.0.1"], webhook_retry_schedule=["60"])
    client = create_app(permissive).test_client()
    session_id = _session(client, admin_headers)
    hook = client.post(
        f"/api/sessions/{session_id}/webhooks", json={"url": receiver.url}, headers=admin_headers
    ).json
    event_id = publish_event(redis_conn, permissive, session_id, "message.received", {"id": "m1"})
    # The operator then removes the allow-list entry: deliveries are refused from then on.
    strict = DeliveryContext.build(make_settings(webhook_retry_schedule=["60"]), redis_conn)
    delivery_id = expected_delivery_id(session_id, event_id, hook["id"])
    assert run_attempt(strict, delivery_id, 0) == "retrying"
    [attempt] = strict.deliveries.attempts(delivery_id)
    assert str(attempt["error"]).startswith("WEBHOOK_URL_REFUSED")
    assert receiver.received == []


def test_pinning_resolves_once_and_connects_to_the_checked_address() -> None:
    overrides = {"hooks.local.test": "127.0.0.1"}
    target = pin("http://hooks.local.test:8080/a?b=1", allowed=["hooks.local.test"], overrides=overrides)
    assert target.address == "127.0.0.1"
    assert target.connect_url == "http://127.0.0.1:8080/a?b=1"
    assert target.host_header == "hooks.local.test:8080"
    assert target.target == "/a?b=1"
    with pytest.raises(TargetRefused):
        pin("http://hooks.local.test:8080/a", overrides=overrides)


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({}, "VALIDATION_ERROR"),
    ({"url": "ftp://hooks.public.test/x"}, "INVALID_WEBHOOK_URL"),
    ({"url": "https://user:pw@hooks.public.test/x"}, "INVALID_WEBHOOK_URL"),
    ({"url": "not a url"}, "INVALID_WEBHOOK_URL"),
    ({"url": "https://hooks.public.test/", "events": []}, "VALIDATION_ERROR"),
    ({"url": "https://hooks.public.test/", "events": ["message.nope"]}, "VALIDATION_ERROR"),
    ({"url": "https://hooks.public.test/", "secret": "short"}, "VALIDATION_ERROR"),
    ({"url": "https://hooks.public.test/", "retryCount": 6}, "VALIDATION_ERROR"),
    ({"url": "https://hooks.public.test/", "retryCount": "3"}, "VALIDATION_ERROR"),
    ({"url": "https://hooks.public.test/", "headers": {"Bad Header": "x"}}, "VALIDATION_ERROR"),
    ({"url": "https://hooks.public.test/", "headers": {"X-A": "a\r\nInjected: 1"}}, "VALIDATION_ERROR"),
    (
        {
            "url": "https://hooks.public.test/",
            "filters": {"conditions": [{"field": "nope", "operator": "is", "value": "x"}]},
        },
        "VALIDATION_ERROR",
    ),
    (
        {
            "url": "https://hooks.public.test/",
            "filters": {"conditions": [{"field": "isGroup", "operator": "is", "value": "x"}]},
        },
        "VALIDATION_ERROR",
    ),
    (
        {
            "url": "https://hooks.public.test/",
            "filters": {"conditions": [{"field": "body", "operator": "contains", "value": 3}]},
        },
        "VALIDATION_ERROR",
    ),
    (
        {
            "url": "https://hooks.public.test/",
            "filters": {"conditions": [{"field": "body", "operator": "is"}]},
        },
        "VALIDATION_ERROR",
    ),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
def test_bad_webhook_bodies_are_400_with_a_code(
    guarded: FlaskClient, admin_headers: dict[str, str], body: dict[str, Any], code: str
) -> None:
    session_id = _session(guarded, admin_headers)
    response = guarded.post(f"/api/sessions/{session_id}/webhooks", json=body, headers=admin_headers)
    assert response.status_code == 400, response.json
    assert response.json["code"] == code, response.json


def test_crud_limits_scopes_and_roles(
    make_settings: Callable[..., Settings], admin_headers: dict[str, str], receiver: Receiver
) -> None:
    client = create_app(
        make_settings(ssrf_allowed_hosts=["127.0.0.1"], webhook_max_per_session=2)
    ).test_client()
    session_id = _session(client, admin_headers)
    base = f"/api/sessions/{session_id}/webhooks"
    first = client.post(base, json={"url": receiver.url, "secret": "s" * 16}, headers=admin_headers).json
    client.post(base, json={"url": receiver.url}, headers=admin_headers)
    third = client.post(base, json={"url": receiver.url}, headers=admin_headers)
    assert third.status_code == 409
    assert third.json["code"] == "WEBHOOK_LIMIT_REACHED"

    assert client.put(f"{base}/{first['id']}", json={}, headers=admin_headers).status_code == 400
    updated = client.put(f"{base}/{first['id']}", json={"active": False, "secret": ""}, headers=admin_headers)
    assert updated.status_code == 200
    assert updated.json["active"] is False
    assert client.get(f"{base}/nope", headers=admin_headers).json["code"] == "WEBHOOK_NOT_FOUND"
    assert (
        client.get("/api/sessions/nope/webhooks", headers=admin_headers).json["code"] == "SESSION_NOT_FOUND"
    )
    assert client.get("/api/webhooks?limit=0", headers=admin_headers).status_code == 400
    assert len(client.get("/api/webhooks", headers=admin_headers).json) == 2

    result = client.post(f"{base}/{first['id']}/test", headers=admin_headers)
    assert result.json == {"success": True, "statusCode": 200}
    assert receiver.received[0].headers["x-openwa-event"] == "test"

    viewer = client.post(
        "/api/auth/api-keys", json={"name": "viewer", "role": "viewer"}, headers=admin_headers
    ).json
    operator = client.post(
        "/api/auth/api-keys",
        json={"name": "scoped", "role": "operator", "allowedSessions": ["other"]},
        headers=admin_headers,
    ).json
    assert client.get(base, headers={"X-API-Key": viewer["apiKey"]}).status_code == 403
    assert client.get(base, headers={"X-API-Key": operator["apiKey"]}).status_code == 401  # out of scope
    assert client.get("/api/webhooks", headers={"X-API-Key": operator["apiKey"]}).json == []
    failures = client.get("/api/webhooks/delivery-failures", headers={"X-API-Key": operator["apiKey"]})
    assert failures.status_code == 403
    bad_redrive = client.post(
        "/api/webhooks/delivery-failures/redrive", json={"limit": 0}, headers=admin_headers
    )
    assert bad_redrive.status_code == 400
    assert bad_redrive.json["code"] == "VALIDATION_ERROR"
    missing = client.get("/api/webhooks/deliveries/dlv_nope", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json["code"] == "DELIVERY_NOT_FOUND"
    assert client.delete(f"{base}/{first['id']}", headers=admin_headers).status_code == 204
