"""A published event reaches the receiver once per matching webhook, signed so that both the Standard
Webhooks library and the OpenWA SDK verify it, with the documented body and headers."""

from __future__ import annotations

import base64
import json
import time

import pytest
from openwa import OpenWAClient, verify_webhook_signature
from redis import Redis
from standardwebhooks import Webhook as StandardWebhook

from functions.config import Settings
from functions.webhooks.dispatch import publish_event
from tests.integration.webhooks.conftest import Received, Receiver, Workers

MESSAGE = {"id": "true_123@c.us_3EB0AAAA", "from": "123@c.us", "to": "456@c.us", "body": "hi", "type": "chat"}


def _session(sdk: OpenWAClient, name: str = "wh-main") -> str:
    return str(sdk.sessions.create({"name": name})["id"])


@pytest.mark.parametrize(
    "secret", ["plain-secret-0123456789", "whsec_" + base64.b64encode(b"k" * 32).decode()]
)
def test_delivery_verifies_with_standardwebhooks_and_the_sdk(
    sdk: OpenWAClient,
    redis_conn: Redis,
    wh_settings: Settings,
    receiver: Receiver,
    workers: Workers,
    secret: str,
) -> None:
    session_id = _session(sdk)
    hook = sdk.webhooks.create(
        session_id, {"url": receiver.url, "secret": secret, "headers": {"X-Tenant": "t1"}}
    )
    workers.start(1)

    event_id = publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)

    [got] = receiver.wait_for(1, timeout=15)
    body = json.loads(got.body)
    assert body["event"] == "message.received"
    assert body["sessionId"] == session_id
    assert body["data"] == MESSAGE
    assert body["idempotencyKey"] == f"msg_{session_id}_{MESSAGE['id']}_{hook['id']}"
    assert body["deliveryId"].startswith("dlv_")
    assert got.headers["x-openwa-event"] == "message.received"
    assert got.headers["x-openwa-idempotency-key"] == body["idempotencyKey"]
    assert got.headers["x-openwa-delivery-id"] == body["deliveryId"]
    assert got.headers["x-openwa-retry-count"] == "0"
    assert got.headers["x-tenant"] == "t1"
    assert got.headers["user-agent"] == "OpenWA-Webhook/1.0.0"
    # The OpenWA SDK keys with the secret's UTF-8 bytes, exactly as given.
    assert verify_webhook_signature(got.body, got.headers["x-openwa-signature"], secret)
    assert not verify_webhook_signature(got.body + b" ", got.headers["x-openwa-signature"], secret)
    # Standard Webhooks: a whsec_ secret is its decoded bytes; any other secret its UTF-8 bytes.
    standard = StandardWebhook(secret if secret.startswith("whsec_") else secret.encode())
    assert standard.verify(got.body, got.headers) == body
    assert got.headers["webhook-id"] == body["idempotencyKey"]
    assert event_id


def test_custom_headers_cannot_override_ours_and_are_never_returned(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id = _session(sdk)
    created = sdk.webhooks.create(
        session_id,
        {
            "url": receiver.url,
            "headers": {
                "Content-Type": "text/plain",
                "X-OpenWA-Event": "forged",
                "webhook-id": "x",
                "X-Ok": "1",
            },
        },
    )
    assert "headers" not in created
    assert "secret" not in created
    assert "headers" not in sdk.webhooks.get(session_id, created["id"])
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)
    [got] = receiver.wait_for(1, timeout=15)
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-openwa-event"] == "message.received"
    assert got.headers["webhook-id"] != "x"
    assert got.headers["x-ok"] == "1"
    assert "x-openwa-signature" not in got.headers  # no secret, no signature


def test_events_and_filters_select_which_webhooks_get_an_event(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id = _session(sdk)
    url = receiver.url
    everything = sdk.webhooks.create(session_id, {"url": url + "?all", "events": ["*"]})
    default = sdk.webhooks.create(session_id, {"url": url + "?default"})  # message.received only
    acks = sdk.webhooks.create(session_id, {"url": url + "?acks", "events": ["message.ack"]})
    only_alice = sdk.webhooks.create(
        session_id,
        {
            "url": url + "?alice",
            "events": ["message.received", "message.ack"],
            "filters": {
                "conditions": [
                    {"field": "sender", "operator": "is", "value": ["alice@c.us"]},
                    {"field": "body", "operator": "contains", "value": "ORDER"},
                ]
            },
        },
    )
    paused = sdk.webhooks.create(session_id, {"url": url + "?paused", "events": ["*"]})
    sdk.webhooks.update(session_id, paused["id"], {"active": False})
    workers.start(1)

    from_alice = {**MESSAGE, "id": "m-alice", "from": "alice@c.us", "body": "new order 42"}
    from_bob = {**MESSAGE, "id": "m-bob", "from": "bob@c.us", "body": "order 43"}
    publish_event(redis_conn, wh_settings, session_id, "message.received", from_alice)
    publish_event(redis_conn, wh_settings, session_id, "message.received", from_bob)
    publish_event(redis_conn, wh_settings, session_id, "message.ack", {"id": "m-alice", "status": "read"})
    publish_event(redis_conn, wh_settings, session_id, "status.received", {"statusId": "s1"})
    # A marker only `all` (and the paused hook) selects: one worker drains deliveries in order, so once it
    # has reached `all`, every delivery of the four events above (wanted or not) has been made.
    publish_event(redis_conn, wh_settings, session_id, "status.received", {"statusId": "marker"})

    def _is_marker(request: Received) -> bool:
        return bool(json.loads(request.body)["data"] == {"statusId": "marker"})

    deadline = time.monotonic() + 20
    while not any(_is_marker(r) and r.path.endswith("?all") for r in receiver.received):
        assert time.monotonic() < deadline, f"no marker within 20 s; got {len(receiver.received)} requests"
        time.sleep(0.05)
    got = [request for request in list(receiver.received) if not _is_marker(request)]

    # all: 4; default: 2; acks: 1; alice: 1 (the ack lacks `sender`, so her filter drops it); paused: 0
    hook_ids = {
        "all": everything["id"],
        "default": default["id"],
        "acks": acks["id"],
        "alice": only_alice["id"],
        "paused": paused["id"],
    }
    by_hook: dict[str, list[str]] = {}
    for request in got:
        name = request.path.split("?")[1]
        body = json.loads(request.body)
        by_hook.setdefault(name, []).append(body["event"])
        # Each delivery carries the key of the webhook it was addressed to.
        assert body["idempotencyKey"].endswith(f"_{hook_ids[name]}"), (name, body["idempotencyKey"])
    assert sorted(by_hook["all"]) == [
        "message.ack",
        "message.received",
        "message.received",
        "status.received",
    ]
    assert by_hook["default"] == ["message.received", "message.received"]
    assert by_hook["acks"] == ["message.ack"]
    assert by_hook["alice"] == ["message.received"]
    assert "paused" not in by_hook
    assert len(got) == 8
