"""How each receiver answer is handled: 500 then 200 is retried and delivered, 429 waits for Retry-After,
410 disables the webhook, 400 is not retried, a receiver slower than the 10 s timeout is retried; exhausted
deliveries become dead letters that an admin lists and redrives."""

from __future__ import annotations

import json

from openwa import OpenWAClient
from redis import Redis

from functions.config import Settings
from functions.state.deliveries import DeliveryRepository
from functions.state.keys import Keys
from functions.webhooks.dispatch import publish_event
from tests.integration.webhooks.conftest import Answer, Receiver, Workers

MESSAGE = {"id": "m-1", "from": "1@c.us", "to": "2@c.us", "body": "hello", "type": "chat"}


def _hook(sdk: OpenWAClient, receiver: Receiver, **extra: object) -> tuple[str, str]:
    session_id = str(sdk.sessions.create({"name": "retries"})["id"])
    hook = sdk.webhooks.create(session_id, {"url": receiver.url, **extra})  # type: ignore[typeddict-item]
    return session_id, str(hook["id"])


def _attempt_log(redis_conn: Redis, settings: Settings, delivery_id: str) -> list[dict[str, object]]:
    return DeliveryRepository(redis_conn, Keys(settings.redis_prefix)).attempts(delivery_id)


def test_500_then_200_is_retried_with_the_same_key_and_each_attempt_recorded(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id, _ = _hook(sdk, receiver)
    receiver.script = [Answer(500), Answer(503)]
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)

    got = receiver.wait_for(3, timeout=20)
    assert [r.headers["x-openwa-retry-count"] for r in got] == ["0", "1", "2"]
    assert len({r.headers["x-openwa-idempotency-key"] for r in got}) == 1
    assert len({r.body for r in got}) == 1  # the same bytes on every attempt
    delivery_id = got[0].headers["x-openwa-delivery-id"]
    # The receiver counts a request on arrival; the worker records it once it has the answer.
    log = _wait(lambda: len(found := _attempt_log(redis_conn, wh_settings, delivery_id)) == 3 and found, "3")
    assert [entry["statusCode"] for entry in log] == [500, 503, 200]
    assert all(isinstance(entry["latencyMs"], float) and entry["at"] for entry in log)
    assert log[0]["error"] is None
    assert sdk.webhooks.list(session_id)[0]["lastTriggeredAt"] is not None


def test_429_is_retried_after_its_retry_after(
    sdk: OpenWAClient,
    redis_conn: Redis,
    hook_settings: object,
    receiver: Receiver,
    workers: Workers,
    wh_settings: Settings,
) -> None:
    session_id, _ = _hook(sdk, receiver)
    # The schedule says 1 s; the receiver asks for 4 s, and gets them.
    receiver.script = [Answer(429, {"Retry-After": "4"})]
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)
    first, second = receiver.wait_for(2, timeout=20)
    assert second.at - first.at >= 3.9


def test_410_disables_the_webhook_and_dead_letters_the_delivery(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id, hook_id = _hook(sdk, receiver)
    # A second, healthy webhook of the same session gets every event: it carries the marker below.
    witness = Receiver()
    witness.start()
    sdk.webhooks.create(session_id, {"url": witness.url})
    receiver.default = Answer(410)
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)
    receiver.wait_for(1, timeout=15)
    _wait(lambda: not sdk.webhooks.get(session_id, hook_id)["active"], "the webhook is disabled")
    [failure] = _wait(lambda: sdk.webhooks.delivery_failures(), "a dead letter")
    assert failure["lastStatusCode"] == 410
    assert failure["attempts"] == 1
    # Later events are not sent to the disabled webhook. One worker drains deliveries in order: once the
    # marker published after m-2 has reached the witness, a delivery of m-2 to the disabled one would have.
    publish_event(redis_conn, wh_settings, session_id, "message.received", {**MESSAGE, "id": "m-2"})
    publish_event(redis_conn, wh_settings, session_id, "message.received", {**MESSAGE, "id": "marker"})
    try:
        _wait(lambda: any(json.loads(r.body)["data"]["id"] == "marker" for r in witness.received), "marker")
    finally:
        witness.stop()
    assert [json.loads(r.body)["data"]["id"] for r in receiver.received] == ["m-1"]
    assert [json.loads(r.body)["data"]["id"] for r in witness.received] == ["m-1", "m-2", "marker"]


def test_400_is_not_retried_and_is_redriven_by_an_admin(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id, hook_id = _hook(sdk, receiver, retryCount=5)
    receiver.script = [Answer(400), Answer(422)]
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)
    publish_event(redis_conn, wh_settings, session_id, "message.received", {**MESSAGE, "id": "m-2"})
    failures = _wait(
        lambda: len(sdk.webhooks.delivery_failures()) == 2 and sdk.webhooks.delivery_failures(), "2"
    )
    assert {f["lastStatusCode"] for f in failures} == {400, 422}
    assert all(f["attempts"] == 1 and f["replayable"] and f["webhookId"] == hook_id for f in failures)
    assert len(receiver.received) == 2

    first_keys = {json.loads(r.body)["idempotencyKey"] for r in receiver.received}
    result = sdk.webhooks.redrive_delivery_failures({"ids": [failures[0]["id"]]})
    assert result["redriven"] == 1
    assert result["remaining"] == 1
    result = sdk.webhooks.redrive_delivery_failures({"webhookId": hook_id})
    assert result["redriven"] == 1
    assert result["remaining"] == 0
    replays = receiver.wait_for(4, timeout=15)[2:]
    assert {json.loads(r.body)["idempotencyKey"] for r in replays} == first_keys
    assert {r.headers["x-openwa-delivery-id"] for r in replays}.isdisjoint({f["id"] for f in failures})
    assert sdk.webhooks.delivery_failures() == []


def test_exhausted_retries_become_a_dead_letter(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id, _ = _hook(sdk, receiver, retryCount=2)
    receiver.default = Answer(502)
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)
    [failure] = _wait(lambda: sdk.webhooks.delivery_failures({"sessionId": session_id}), "a dead letter")
    assert failure["attempts"] == 2
    assert failure["lastStatusCode"] == 502
    assert failure["lastError"] == "HTTP 502"
    assert len(receiver.received) == 2


def test_a_receiver_slower_than_the_10_s_timeout_is_retried(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    assert wh_settings.webhook_timeout == 10_000  # the real timeout
    session_id, _ = _hook(sdk, receiver)
    receiver.script = [Answer(200, delay=11.5)]
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)
    _slow, retried = receiver.wait_for(2, timeout=30)
    assert retried.headers["x-openwa-retry-count"] == "1"
    delivery_id = retried.headers["x-openwa-delivery-id"]
    log = _wait(lambda: len(found := _attempt_log(redis_conn, wh_settings, delivery_id)) == 2 and found, "2")
    assert log[0]["error"] == "timeout after 10 s"
    assert log[0]["statusCode"] is None
    assert log[1]["statusCode"] == 200


def _wait(check, what: str, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")
