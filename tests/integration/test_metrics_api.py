"""`GET /api/metrics`: one Prometheus view of the whole deployment, read from Redis at scrape time, so any
API process answers with the same numbers; guarded by METRICS_TOKEN, or an admin key when it is unset."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from werkzeug.serving import BaseWSGIServer, make_server

from functions.api.app import create_app
from functions.config import Settings
from functions.core.enums import SessionStatus
from functions.queueing import DEFAULT_QUEUE, SessionJob, enqueue_session_job, enqueue_webhook_delivery
from functions.state import metrics
from functions.state.keys import Keys
from runner.leases import LeaseStore
from tests.integration.scrape import Scrape, scrape

TOKEN = "metrics-token-0123456789abcdef"
KEYS = Keys("openwa")


def new_key(client: FlaskClient, admin: dict[str, str], **body: Any) -> str:
    body.setdefault("name", f"key-{body.get('role', 'operator')}")
    response = client.post("/api/auth/api-keys", json=body, headers=admin)
    assert response.status_code == 201, response.json
    return str(response.json["apiKey"])


@pytest.fixture
def live_server(make_settings: Callable[..., Settings]) -> Iterator[str]:
    """The gateway with METRICS_TOKEN set, served over real HTTP on 127.0.0.1."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, create_app(make_settings(metrics_token=TOKEN)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_without_a_token_setting_metrics_need_an_unscoped_admin_key(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    session_id = client.post("/api/sessions", json={"name": "scoped"}, headers=admin_headers).json["id"]
    operator = new_key(client, admin_headers, role="operator")
    scoped_admin = new_key(
        client, admin_headers, name="scoped-admin", role="admin", allowedSessions=[session_id]
    )

    assert client.get("/api/metrics").status_code == 401
    assert client.get("/api/metrics", headers={"X-API-Key": "owa_k1_" + "0" * 64}).status_code == 401
    assert client.get("/api/metrics", headers={"X-API-Key": operator}).status_code == 403
    assert client.get("/api/metrics", headers={"X-API-Key": scoped_admin}).status_code == 403
    assert scrape(client, admin_headers).value("openwa_up") == 1


def test_with_a_token_setting_only_that_bearer_token_is_accepted(live_server: str, master_key: str) -> None:
    missing = httpx.get(f"{live_server}/api/metrics")
    wrong = httpx.get(f"{live_server}/api/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    admin_key = httpx.get(f"{live_server}/api/metrics", headers={"X-API-Key": master_key})
    assert [r.status_code for r in (missing, wrong, admin_key)] == [401, 401, 401]
    assert {r.json()["code"] for r in (missing, wrong, admin_key)} == {"METRICS_TOKEN_INVALID"}

    scraped = httpx.get(f"{live_server}/api/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    families = Scrape(scraped.text)
    assert families.value("openwa_stats_available") == 1
    assert families.value("openwa_auth_failures_total", status="401") == 3


def test_any_api_process_reports_the_sessions_every_other_one_created(
    make_settings: Callable[..., Settings], admin_headers: dict[str, str]
) -> None:
    settings = make_settings()
    first, second = create_app(settings).test_client(), create_app(settings).test_client()
    ids = [
        first.post("/api/sessions", json={"name": name}, headers=admin_headers).json["id"]
        for name in ("alpha", "beta", "gamma")
    ]
    first.post(f"/api/sessions/{ids[0]}/start", headers=admin_headers)
    first.post(f"/api/sessions/{ids[1]}/start", headers=admin_headers)
    first.post(f"/api/sessions/{ids[1]}/stop", headers=admin_headers)

    seen = scrape(second, admin_headers)
    assert seen.value("openwa_sessions_total") == 3
    assert seen.value("openwa_sessions_active") == 1
    by_status = {sample["status"] for sample in seen.labels_of("openwa_sessions")}
    assert by_status == {status.value for status in SessionStatus}  # every status, zeros included
    assert seen.value("openwa_sessions", status="initializing") == 1
    assert seen.value("openwa_sessions", status="disconnected") == 1
    assert seen.value("openwa_sessions", status="created") == 1

    second.delete(f"/api/sessions/{ids[2]}", headers=admin_headers)
    assert scrape(first, admin_headers).value("openwa_sessions_total") == 2


def test_message_metrics_are_exposed_at_zero_then_follow_what_any_process_records(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    before = scrape(client, admin_headers)
    assert before.value("openwa_messages_sent_total") == 0
    assert before.value("openwa_messages_received_total") == 0
    assert before.value("openwa_message_send_latency_seconds_count") == 0
    assert before.value("openwa_message_send_latency_seconds_bucket", le="+Inf") == 0

    # What a session process does when WhatsApp accepts two sends and one message arrives.
    with redis_conn.pipeline(transaction=False) as pipe:
        metrics.incr_counter(pipe, KEYS, metrics.MESSAGES_SENT, amount=2)
        metrics.observe(pipe, KEYS, metrics.MESSAGE_SEND_LATENCY, 0.3)
        metrics.observe(pipe, KEYS, metrics.MESSAGE_SEND_LATENCY, 4.0)
        pipe.execute()
    metrics.incr_counter(redis_conn, KEYS, metrics.MESSAGES_RECEIVED)

    after = scrape(client, admin_headers)
    assert after.value("openwa_messages_sent_total") == 2
    assert after.value("openwa_messages_received_total") == 1
    assert after.value("openwa_messages_total", direction="outgoing") == 2
    assert after.value("openwa_messages_total", direction="incoming") == 1
    latency = "openwa_message_send_latency_seconds"
    assert after.value(f"{latency}_bucket", le="0.25") == 0
    assert after.value(f"{latency}_bucket", le="0.5") == 1
    assert after.value(f"{latency}_bucket", le="5.0") == 2
    assert after.value(f"{latency}_bucket", le="+Inf") == 2
    assert after.value(f"{latency}_count") == 2
    assert after.value(f"{latency}_sum") == pytest.approx(4.3)


def test_recording_an_undeclared_metric_or_label_set_is_refused(redis_conn: Redis) -> None:
    with pytest.raises(ValueError, match="not a declared counter"):
        metrics.incr_counter(redis_conn, KEYS, "openwa_mesages_sent_total")
    with pytest.raises(ValueError, match="takes labels"):
        metrics.incr_counter(redis_conn, KEYS, metrics.WEBHOOK_ATTEMPTS, {"status": "200"})
    with pytest.raises(ValueError, match="not a declared histogram"):
        metrics.observe(redis_conn, KEYS, metrics.MESSAGES_SENT, 1.0)
    with pytest.raises(ValueError, match="cannot observe"):
        metrics.observe(redis_conn, KEYS, metrics.MESSAGE_SEND_LATENCY, float("nan"))
    assert redis_conn.keys("openwa:metrics:*") == []


def _fail(*_: object) -> None:
    raise RuntimeError("this job fails")


def test_queue_depths_cover_every_session_queue_and_the_worker_queues(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    session_id = client.post("/api/sessions", json={"name": "queued"}, headers=admin_headers).json["id"]
    enqueue_session_job(redis_conn, session_id, SessionJob.SEND_MESSAGE, "m-1")
    enqueue_session_job(redis_conn, session_id, SessionJob.SEND_MESSAGE, "m-2")
    enqueue_webhook_delivery(redis_conn, "delivery-1", 0, timeout=15)
    enqueue_webhook_delivery(redis_conn, "delivery-2", 1, timeout=15, delay=600)
    default = Queue(DEFAULT_QUEUE, connection=redis_conn)
    default.enqueue(_fail)
    SimpleWorker([default], connection=redis_conn).work(burst=True)

    seen = scrape(client, admin_headers)
    session_queue = f"session:{session_id}"
    assert seen.value("openwa_queue_jobs", queue=session_queue, state="queued") == 2
    assert seen.value("openwa_queue_jobs", queue="webhooks", state="queued") == 1
    assert seen.value("openwa_queue_jobs", queue="webhooks", state="scheduled") == 1
    assert seen.value("openwa_queue_jobs", queue="default", state="failed") == 1
    assert seen.value("openwa_queue_jobs", queue="default", state="queued") == 0

    client.delete(f"/api/sessions/{session_id}", headers=admin_headers)  # purges (and forgets) its queue
    queues = {sample["queue"] for sample in scrape(client, admin_headers).labels_of("openwa_queue_jobs")}
    assert queues == {"webhooks", "default"}


def test_runner_capacity_is_max_sessions_minus_held_over_live_runners(
    make_settings: Callable[..., Settings], admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = create_app(make_settings(max_sessions=10)).test_client()
    assert scrape(client, admin_headers).value("openwa_runners_free_capacity") == 0
    LeaseStore(redis_conn, KEYS, 30).heartbeat("runner-a", ["s1", "s2"], max_sessions=5)
    LeaseStore(redis_conn, KEYS, 30).heartbeat("runner-b", ["s3"])  # no MAX_SESSIONS: the deployment's
    LeaseStore(redis_conn, KEYS, 0.05).heartbeat("runner-gone", [], max_sessions=50)
    redis_conn.delete(KEYS.runner("runner-gone"))  # its heartbeat expired

    seen = scrape(client, admin_headers)
    assert seen.value("openwa_runners_live") == 2
    assert seen.value("openwa_runner_sessions_held", runner="runner-a") == 2
    assert seen.value("openwa_runner_sessions_max", runner="runner-a") == 5
    assert seen.value("openwa_runner_sessions_max", runner="runner-b") == 10
    assert seen.value("openwa_runners_free_capacity") == (5 - 2) + (10 - 1)


def test_with_redis_down_the_scrape_still_answers_and_says_stats_are_unavailable(
    make_settings: Callable[..., Settings], closed_port: int
) -> None:
    app: Flask = create_app(
        make_settings(redis_url=f"redis://127.0.0.1:{closed_port}/0", metrics_token=TOKEN)
    )
    seen = scrape(app.test_client(), {"Authorization": f"Bearer {TOKEN}"})
    assert seen.value("openwa_up") == 1
    assert seen.value("openwa_stats_available") == 0
    assert not seen.has("openwa_sessions_total")
    assert seen.value("openwa_process_resident_memory_bytes") > 0
