"""Deliveries due now wait on the `webhooks` queue's ready list and are taken in batches by a few drain jobs,
not one RQ job each; every delivery still gets its own record and attempt log, and nothing claimed by a
worker that dies, or handed back unattempted, is lost."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from openwa import OpenWAClient
from redis import Redis
from rq import Queue
from rq.registry import FinishedJobRegistry

from functions.config import Settings
from functions.queueing import (
    WEBHOOK_DRAIN_JOB,
    WEBHOOKS_QUEUE,
    WEBHOOKS_READY_KEY,
    enqueue_webhook_delivery,
    webhooks_queue,
)
from functions.state.deliveries import DeliveryRepository
from functions.state.keys import Keys
from functions.webhooks.delivery import DeliveryContext, run_claimed
from functions.webhooks.dispatch import job_timeout, publish_event
from tests.integration.webhooks.conftest import Answer, Receiver, Workers


def _hooked_session(sdk: OpenWAClient, receiver: Receiver, name: str) -> str:
    session_id = str(sdk.sessions.create({"name": name})["id"])
    sdk.webhooks.create(session_id, {"url": receiver.url})
    return session_id


def test_a_burst_of_events_queues_one_drain_job_not_one_job_each(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver
) -> None:
    session_id = _hooked_session(sdk, receiver, "burst")
    for index in range(25):
        publish_event(redis_conn, wh_settings, session_id, "message.received", {"id": f"m-{index}"})
    assert redis_conn.llen(WEBHOOKS_READY_KEY) == 25
    [job] = webhooks_queue(redis_conn).get_jobs()
    assert job.func_name == WEBHOOK_DRAIN_JOB


def test_a_backlog_is_delivered_by_a_few_drain_jobs_with_a_record_per_delivery(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver, workers: Workers
) -> None:
    session_id = _hooked_session(sdk, receiver, "backlog")
    for index in range(60):
        publish_event(redis_conn, wh_settings, session_id, "message.received", {"id": f"m-{index}"})
    workers.start(1)

    got = receiver.wait_for(60, timeout=30)
    assert len({json.loads(request.body)["data"]["id"] for request in got}) == 60
    deliveries = DeliveryRepository(redis_conn, Keys(wh_settings.redis_prefix))
    ids = [request.headers["x-openwa-delivery-id"] for request in got]
    _until(lambda: all(row is not None and row.state == "delivered" for row in deliveries.get_many(ids)))
    assert all([entry["statusCode"] for entry in deliveries.attempts(i)] == [200] for i in ids)
    finished = FinishedJobRegistry(queue=Queue(WEBHOOKS_QUEUE, connection=redis_conn)).get_job_ids()
    assert 1 <= len(finished) <= 6  # drain jobs, each taking batches; not 60 jobs


def test_claimed_deliveries_left_unattempted_go_back_to_the_ready_list(
    sdk: OpenWAClient, redis_conn: Redis, wh_settings: Settings, receiver: Receiver
) -> None:
    session_id = _hooked_session(sdk, receiver, "handback")
    for index in range(3):
        publish_event(redis_conn, wh_settings, session_id, "message.received", {"id": f"m-{index}"})
    ctx = DeliveryContext.build(wh_settings, redis_conn)
    claimed, _ = ctx.deliveries.claim(WEBHOOKS_READY_KEY, int(time.time() * 1000) + 60_000, take=16)
    assert [row.state for row in claimed] == ["delivering"] * 3

    assert run_claimed(ctx, claimed, stop_at=time.monotonic() - 1) == []  # its time was already up

    assert receiver.received == []
    assert redis_conn.llen(WEBHOOKS_READY_KEY) == 3
    assert redis_conn.zcard(Keys(wh_settings.redis_prefix).deliveries_inflight) == 0
    for row in ctx.deliveries.get_many([row.id for row in claimed]):
        assert row is not None
        assert (row.state, row.attempts_made) == ("pending", 0)
        assert ctx.deliveries.attempts(row.id) == []


def test_a_worker_killed_holding_a_batch_has_the_whole_batch_redelivered(
    sdk: OpenWAClient,
    redis_conn: Redis,
    hook_settings: Callable[..., Settings],
    receiver: Receiver,
    workers: Workers,
) -> None:
    settings = hook_settings(webhook_retry_schedule=["5"], webhook_retry_jitter=0.0)
    session_id = _hooked_session(sdk, receiver, "batch-kill")
    receiver.script = [Answer(200, delay=60)]  # the batch's first attempt hangs until its worker dies
    for index in range(5):
        publish_event(redis_conn, settings, session_id, "message.received", {"id": f"m-{index}"})
    [doomed] = workers.start(1)
    receiver.wait_for(1, timeout=15)
    workers.start(1)
    time.sleep(1)
    workers.kill(doomed)
    killed_at = time.monotonic()

    got = receiver.wait_for(6, timeout=40)
    arrived = {json.loads(request.body)["data"]["id"] for request in got[1:]}
    assert arrived == {f"m-{index}" for index in range(5)}
    assert got[-1].at - killed_at < 30
    deliveries = DeliveryRepository(redis_conn, Keys(settings.redis_prefix))
    ids = {request.headers["x-openwa-delivery-id"] for request in got}
    _until(lambda: all(row is not None and row.state == "delivered" for row in deliveries.get_many([*ids])))


def test_a_retry_that_is_due_at_once_goes_through_the_ready_list(
    redis_conn: Redis, wh_settings: Settings
) -> None:
    enqueue_webhook_delivery(redis_conn, "dlv_x", 2, timeout=job_timeout(wh_settings), delay=0)
    assert redis_conn.lrange(WEBHOOKS_READY_KEY, 0, -1) == [b"dlv_x:2"]
    assert webhooks_queue(redis_conn).count == 1  # one drain job, waiting


def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
