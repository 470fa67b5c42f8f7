"""A webhook's delivery log (`GET /api/sessions/{id}/webhooks/{webhookId}/deliveries`): every attempt of its
deliveries and tests, newest first, with status, latency and error; bounded; gone with the webhook; every
bad request a 4xx with a code. Real Redis, real `openwa worker` processes, a real local receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from redis import Redis

from functions.config import Settings
from functions.state.deliveries import MAX_WEBHOOK_ATTEMPTS, DeliveryRepository
from functions.state.keys import Keys
from functions.webhooks.dispatch import publish_event
from tests.integration.webhooks.conftest import Answer, Receiver, Workers
from tests.integration.webhooks.test_retries import _wait

MESSAGE = {"id": "m-1", "from": "1@c.us", "to": "2@c.us", "body": "hello", "type": "chat"}


@pytest.fixture
def http(wh_app: Flask, master_key: str) -> Iterator[Callable[..., httpx.Response]]:
    """The app over HTTP semantics (the real WSGI app), with the admin key unless `key=` says otherwise."""
    client = httpx.Client(base_url="https://gateway.test", transport=httpx.WSGITransport(app=wh_app))

    def call(method: str, path: str, key: str = master_key, **kwargs: Any) -> httpx.Response:
        return client.request(method, path, headers={"X-API-Key": key}, **kwargs)

    yield call
    client.close()


def _hook(http: Callable[..., httpx.Response], receiver: Receiver, name: str) -> tuple[str, str]:
    session_id = http("POST", "/api/sessions", json={"name": name}).json()["id"]
    hook = http("POST", f"/api/sessions/{session_id}/webhooks", json={"url": receiver.url, "retryCount": 3})
    assert hook.status_code == 201, hook.text
    return session_id, hook.json()["id"]


def test_each_attempt_and_test_is_logged_newest_first_with_status_latency_and_error(
    http: Callable[..., httpx.Response],
    redis_conn: Redis,
    wh_settings: Settings,
    receiver: Receiver,
    workers: Workers,
) -> None:
    session_id, hook_id = _hook(http, receiver, "delivery-log")
    path = f"/api/sessions/{session_id}/webhooks/{hook_id}/deliveries"
    assert http("GET", path).json() == []
    receiver.script = [Answer(500)]
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)

    log = _wait(lambda: len(rows := http("GET", path).json()) == 2 and rows, "two attempts logged")
    assert [row["statusCode"] for row in log] == [200, 500]  # newest first
    assert [row["attempt"] for row in log] == [2, 1]
    assert {row["event"] for row in log} == {"message.received"}
    assert log[0]["deliveryId"] == log[1]["deliveryId"]
    assert log[0]["deliveryId"] == receiver.received[0].headers["x-openwa-delivery-id"]
    assert all(isinstance(row["latencyMs"], float) and row["at"] and row["error"] is None for row in log)

    receiver.stop()  # the next attempt gets no answer at all: an error, no status
    tested = http("POST", f"/api/sessions/{session_id}/webhooks/{hook_id}/test").json()
    assert tested["success"] is False
    newest = http("GET", path, params={"limit": 1}).json()
    assert len(newest) == 1
    assert newest[0]["event"] == "test"
    assert newest[0]["statusCode"] is None
    assert newest[0]["error"]
    assert newest[0]["deliveryId"].startswith("dlv_")
    assert len(http("GET", path).json()) == 3


def test_the_log_is_bounded_expires_and_goes_with_its_webhook(
    http: Callable[..., httpx.Response], redis_conn: Redis, wh_settings: Settings, receiver: Receiver
) -> None:
    session_id, hook_id = _hook(http, receiver, "delivery-log-bounded")
    keys = Keys(wh_settings.redis_prefix)
    deliveries = DeliveryRepository(redis_conn, keys)
    with deliveries.pipeline() as pipe:
        for number in range(MAX_WEBHOOK_ATTEMPTS + 20):
            entry = {"attempt": 1, "at": f"n{number}", "statusCode": 200, "latencyMs": 1.0, "error": None}
            deliveries.log_webhook_attempt(pipe, hook_id, f"dlv_{number}", "message.received", entry)
        pipe.execute()
    assert redis_conn.llen(keys.webhook_attempts(hook_id)) == MAX_WEBHOOK_ATTEMPTS
    assert redis_conn.ttl(keys.webhook_attempts(hook_id)) > 0

    path = f"/api/sessions/{session_id}/webhooks/{hook_id}/deliveries"
    rows = http("GET", path, params={"limit": MAX_WEBHOOK_ATTEMPTS}).json()
    assert len(rows) == MAX_WEBHOOK_ATTEMPTS
    assert rows[0]["deliveryId"] == f"dlv_{MAX_WEBHOOK_ATTEMPTS + 19}"  # the newest kept, the oldest gone
    assert rows[-1]["deliveryId"] == "dlv_20"
    assert len(http("GET", path).json()) == 20  # the default page

    assert http("DELETE", f"/api/sessions/{session_id}/webhooks/{hook_id}").status_code == 204
    assert redis_conn.exists(keys.webhook_attempts(hook_id)) == 0


def test_bad_requests_get_a_4xx_with_a_code_and_change_nothing(
    http: Callable[..., httpx.Response], redis_conn: Redis, wh_settings: Settings, receiver: Receiver
) -> None:
    session_id, hook_id = _hook(http, receiver, "delivery-log-bad")
    other_session, other_hook = _hook(http, receiver, "delivery-log-other")
    path = f"/api/sessions/{session_id}/webhooks/{hook_id}/deliveries"
    viewer = http("POST", "/api/auth/api-keys", json={"name": "log-viewer", "role": "viewer"}).json()[
        "apiKey"
    ]
    scoped = http(
        "POST",
        "/api/auth/api-keys",
        json={"name": "log-scoped", "role": "operator", "allowedSessions": [other_session]},
    ).json()["apiKey"]
    before = sorted(redis_conn.keys(f"{wh_settings.redis_prefix}:webhook:*"))

    cases = [
        (path, {"limit": 0}, None, 400, "VALIDATION_ERROR"),
        (path, {"limit": MAX_WEBHOOK_ATTEMPTS + 1}, None, 400, "VALIDATION_ERROR"),
        (path, {"limit": "many"}, None, 400, "VALIDATION_ERROR"),
        (f"/api/sessions/{session_id}/webhooks/nope/deliveries", {}, None, 404, "WEBHOOK_NOT_FOUND"),
        (f"/api/sessions/{session_id}/webhooks/{other_hook}/deliveries", {}, None, 404, "WEBHOOK_NOT_FOUND"),
        (f"/api/sessions/nope/webhooks/{hook_id}/deliveries", {}, None, 404, "SESSION_NOT_FOUND"),
        (path, {}, viewer, 403, None),
        (path, {}, scoped, 401, None),
        (path, {}, "owa_k1_" + "0" * 64, 401, None),
    ]
    for url, params, key, status, code in cases:
        answer = http("GET", url, params=params, **({"key": key} if key else {}))
        assert answer.status_code == status, (url, params, answer.text)
        assert answer.json()["code"], answer.text
        if code:
            assert answer.json()["code"] == code, answer.text
    assert sorted(redis_conn.keys(f"{wh_settings.redis_prefix}:webhook:*")) == before
