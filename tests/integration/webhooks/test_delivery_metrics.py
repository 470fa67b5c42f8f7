"""Webhook attempts show up in `GET /api/metrics` by outcome, as `openwa worker` settles them: a 500 then a
200 is one `retrying` and one `delivered` attempt; a 400 is a `dead_lettered` attempt and a delivery
failure; every attempt's HTTP time lands in the duration histogram."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask
from openwa import OpenWAClient
from redis import Redis

from functions.config import Settings
from functions.webhooks.dispatch import publish_event
from tests.integration.scrape import Scrape, scrape
from tests.integration.webhooks.conftest import Answer, Receiver, Workers

MESSAGE = {"id": "m-1", "from": "1@c.us", "to": "2@c.us", "body": "hello", "type": "chat"}


def _until(check: Callable[[], Scrape | None], what: str, timeout: float = 20) -> Scrape:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_webhook_attempts_and_failures_are_counted_by_outcome(
    sdk: OpenWAClient,
    wh_app: Flask,
    master_key: str,
    redis_conn: Redis,
    wh_settings: Settings,
    receiver: Receiver,
    workers: Workers,
) -> None:
    client, admin = wh_app.test_client(), {"X-API-Key": master_key}
    before = scrape(client, admin)
    assert before.value("openwa_webhook_attempts_total", outcome="delivered") == 0
    assert before.value("openwa_webhook_delivery_failures_total") == 0

    session_id = str(sdk.sessions.create({"name": "metered"})["id"])
    sdk.webhooks.create(session_id, {"url": receiver.url, "retryCount": 3})
    receiver.script = [Answer(500), Answer(200), Answer(400)]
    workers.start(1)
    publish_event(redis_conn, wh_settings, session_id, "message.received", MESSAGE)
    receiver.wait_for(2, timeout=20)

    def delivered() -> Scrape | None:
        seen = scrape(client, admin)
        return seen if seen.value("openwa_webhook_attempts_total", outcome="delivered") == 1 else None

    seen = _until(delivered, "the delivered attempt to be counted")
    assert seen.value("openwa_webhook_attempts_total", outcome="retrying") == 1
    assert seen.value("openwa_webhook_delivery_failures_total") == 0
    assert seen.value("openwa_webhook_attempt_duration_seconds_count") == 2

    publish_event(redis_conn, wh_settings, session_id, "message.received", {**MESSAGE, "id": "m-2"})

    def dead_lettered() -> Scrape | None:
        # A scrape reads the dead-letter gauge before the counters, in separate round trips, so one taken
        # while the settle commits can count the failure without its dead letter: wait for the gauge.
        seen = scrape(client, admin)
        return seen if seen.value("openwa_webhook_dead_letters") == 1 else None

    seen = _until(dead_lettered, "the dead letter to be counted")
    assert seen.value("openwa_webhook_delivery_failures_total") == 1
    assert seen.value("openwa_webhook_attempts_total", outcome="dead_lettered") == 1
    assert seen.value("openwa_webhook_attempts_total", outcome="delivered") == 1
    assert seen.value("openwa_webhook_attempt_duration_seconds_count") == 3
    assert seen.value("openwa_webhook_attempt_duration_seconds_sum") > 0


def test_the_backlog_gauge_counts_deliveries_due_until_a_worker_drains_them(
    sdk: OpenWAClient,
    wh_app: Flask,
    master_key: str,
    redis_conn: Redis,
    wh_settings: Settings,
    receiver: Receiver,
    workers: Workers,
) -> None:
    client, admin = wh_app.test_client(), {"X-API-Key": master_key}
    session_id = str(sdk.sessions.create({"name": "backlog"})["id"])
    sdk.webhooks.create(session_id, {"url": receiver.url})
    for number in range(3):
        message = {**MESSAGE, "id": f"b-{number}"}
        publish_event(redis_conn, wh_settings, session_id, "message.received", message)

    waiting = scrape(client, admin)
    assert waiting.value("openwa_webhook_deliveries_ready") == 3
    # One drain job waits on the RQ queue for the three: the queue gauge counts jobs, not deliveries.
    assert waiting.value("openwa_queue_jobs", queue="webhooks", state="queued") == 1

    workers.start(1)
    receiver.wait_for(3, timeout=20)

    def drained() -> Scrape | None:
        seen = scrape(client, admin)
        return seen if seen.value("openwa_webhook_deliveries_ready") == 0 else None

    _until(drained, "the backlog to drain")
