"""Nothing is lost when things die: a receiver down for two minutes gets every event once it is back (same
idempotency keys), a worker SIGKILLed mid-delivery has its delivery retried by another within 30 s, and an
event whose producer died before fanning it out is fanned out by the reconciler."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from openwa import OpenWAClient
from redis import Redis

from functions.config import Settings
from functions.core.clock import iso, utcnow
from functions.state.deliveries import DeliveryRepository
from functions.state.keys import Keys
from functions.webhooks.dispatch import event_log, publish_event, reconcile_pending
from tests.integration.webhooks.conftest import Answer, Receiver, Workers, expected_delivery_id

OUTAGE_SECONDS = 120


@pytest.fixture
def wh_settings(hook_settings: Callable[..., Settings]) -> Settings:
    # Five attempts 0, ~5, ~20, ~60, ~140 s after the event (+/-10 %): the last lands after the outage.
    return hook_settings(webhook_retry_schedule=["5", "15", "40", "80"], webhook_retry_jitter=0.1)


@pytest.mark.timeout(420)
def test_receiver_down_for_two_minutes_then_up_gets_every_event_with_stable_keys(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id = str(sdk.sessions.create({"name": "outage"})["id"])
    hook = sdk.webhooks.create(session_id, {"url": receiver.url, "retryCount": 5, "events": ["*"]})
    workers.start(2)
    receiver.stop()
    down_at = time.monotonic()
    ids = [f"m-{index}" for index in range(5)]
    for message_id in ids:
        publish_event(
            redis_conn, wh_settings, session_id, "message.received", {"id": message_id, "body": "x"}
        )
    publish_event(
        redis_conn, wh_settings, session_id, "session.status", {"sessionId": session_id, "status": "ready"}
    )

    time.sleep(OUTAGE_SECONDS - (time.monotonic() - down_at))
    receiver.start()

    got = receiver.wait_for(6, timeout=60)
    time.sleep(2)  # nothing more should come: each event exactly once
    assert len(receiver.received) == 6
    keys = {json.loads(r.body)["idempotencyKey"] for r in got}
    assert {f"msg_{session_id}_{message_id}_{hook['id']}" for message_id in ids} <= keys
    assert all(r.headers["x-openwa-retry-count"] == "4" for r in got)  # the fifth attempt
    deliveries = DeliveryRepository(redis_conn, Keys(wh_settings.redis_prefix))
    for request in got:
        log = deliveries.attempts(request.headers["x-openwa-delivery-id"])
        assert [entry["statusCode"] for entry in log] == [None, None, None, None, 200]
        assert "ConnectError" in str(log[0]["error"])
    assert sdk.webhooks.delivery_failures() == []


@pytest.mark.timeout(120)
def test_a_worker_sigkilled_mid_delivery_is_retried_by_another_within_30_s(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id = str(sdk.sessions.create({"name": "sigkill"})["id"])
    hook_id = str(sdk.webhooks.create(session_id, {"url": receiver.url})["id"])
    receiver.script = [Answer(200, delay=60)]  # the first attempt hangs until its worker is killed
    [doomed] = workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", {"id": "m-kill", "body": "x"})
    [first] = receiver.wait_for(1, timeout=15)
    workers.start(1)  # a healthy worker, already running when the first one dies
    time.sleep(1)
    workers.kill(doomed)
    killed_at = time.monotonic()

    first_retry = receiver.wait_for(2, timeout=30)[1]
    assert first_retry.at - killed_at < 30
    assert first_retry.headers["x-openwa-idempotency-key"] == first.headers["x-openwa-idempotency-key"]
    delivery_id = first.headers["x-openwa-delivery-id"]
    deliveries = DeliveryRepository(redis_conn, Keys(wh_settings.redis_prefix))
    _until(lambda: (found := deliveries.get(delivery_id)) is not None and found.state == "delivered")
    log = deliveries.attempts(delivery_id)
    assert "worker lost" in str(log[0]["error"])
    assert log[-1]["statusCode"] == 200
    # The webhook's delivery log has both too, newest first (`GET .../webhooks/{id}/deliveries`).
    webhook_log = deliveries.webhook_attempts(hook_id, 10)
    assert [entry["deliveryId"] for entry in webhook_log] == [delivery_id, delivery_id]
    assert webhook_log[0]["statusCode"] == 200
    assert "worker lost" in str(webhook_log[1]["error"])


@pytest.mark.timeout(60)
def test_an_event_never_fanned_out_is_reconciled_once(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id = str(sdk.sessions.create({"name": "reconcile"})["id"])
    hook = sdk.webhooks.create(session_id, {"url": receiver.url})
    # The producer appends the event and dies before enqueueing its deliveries (publish_event's first half).
    data = b'{"id":"m-orphan","body":"x"}'
    event_id = event_log(redis_conn, wh_settings).append(
        session_id, "message.received", data, iso(utcnow()) or "", int(time.time() * 1000)
    )
    workers.start(1)
    [got] = receiver.wait_for(1, timeout=20)
    assert got.headers["x-openwa-delivery-id"] == expected_delivery_id(session_id, event_id, hook["id"])
    # A second pass (another worker, a late producer) does not deliver it again.
    time.sleep(2)
    assert reconcile_pending(redis_conn, wh_settings) == 0
    assert len(receiver.received) == 1


def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
