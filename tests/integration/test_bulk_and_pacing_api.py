"""Bulk batches, send pacing at request time and scheduled sends, against a real Redis (no runner: what the
API and the queues hold is checked; sending itself is in `tests/runner/test_bulk_and_pacing.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from functions.api.app import create_app
from functions.core.enums import SessionStatus
from functions.queueing import enqueue_send, release_due_jobs, session_queue_name
from functions.state.keys import Keys
from functions.state.pacing import PacingState
from functions.state.sessions import SessionRepository

PHONE, BOB, CAROL = "15550001111", "15550002222@c.us", "15550003333@c.us"
PACED = {
    "send_pacing_enabled": True,
    "send_pacing_warmup_schedule": "2",
    "send_pacing_cold_daily_cap": "1",
    "send_pacing_breaker_threshold": 2,
    "send_pacing_breaker_cooldown_ms": 60_000,
}
Client = Callable[..., FlaskClient]


@pytest.fixture
def make_client(make_settings: Any) -> Client:
    def build(**overrides: Any) -> FlaskClient:
        return create_app(make_settings(**overrides)).test_client()

    return build


def ready_session(
    client: FlaskClient, headers: dict[str, str], redis_conn: Redis, name: str = "sales"
) -> str:
    """A session as a linked runner leaves it: ready, with its phone."""
    session_id: str = client.post("/api/sessions", json={"name": name}, headers=headers).json["id"]
    SessionRepository(redis_conn, Keys("openwa")).update(session_id, status=SessionStatus.READY, phone=PHONE)
    return session_id


def queued(redis_conn: Redis, session_id: str) -> int:
    return Queue(session_queue_name(session_id), connection=redis_conn).count


def test_a_spent_daily_allowance_is_429_send_pacing_limited_and_queues_nothing(
    make_client: Client, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = make_client(**PACED)
    session_id = ready_session(client, admin_headers, redis_conn)
    state, today = PacingState(redis_conn, Keys("openwa")), datetime.now(UTC).date()
    for _ in range(2):
        state.record_sent(session_id, BOB, day=today, cold=False)

    response = client.post(
        f"/api/sessions/{session_id}/messages/send-text",
        json={"chatId": BOB, "text": "hi"},
        headers=admin_headers,
    )
    assert response.status_code == 429
    body = response.json
    assert (body["code"], body["details"]["rule"]) == ("SEND_PACING_LIMITED", "daily_cap")
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    assert abs(body["retryAfterSeconds"] - (tomorrow - datetime.now(UTC)).total_seconds()) < 5
    assert response.headers["Retry-After"] == str(body["retryAfterSeconds"])
    assert queued(redis_conn, session_id) == 0

    later = {"chatId": BOB, "text": "tomorrow", "sendAt": tomorrow.isoformat()}
    scheduled = client.post(
        f"/api/sessions/{session_id}/messages/send-text", json=later, headers=admin_headers
    )
    assert scheduled.status_code == 201  # a send due another day is not refused on today's allowance


def test_a_new_conversation_over_the_cold_cap_is_429_but_a_known_chat_is_accepted(
    make_client: Client, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = make_client(**{**PACED, "send_pacing_warmup_schedule": "100"})
    session_id = ready_session(client, admin_headers, redis_conn)
    PacingState(redis_conn, Keys("openwa")).record_sent(
        session_id, BOB, day=datetime.now(UTC).date(), cold=True
    )
    url = f"/api/sessions/{session_id}/messages/send-text"

    cold = client.post(url, json={"chatId": CAROL, "text": "hello stranger"}, headers=admin_headers)
    known = client.post(url, json={"chatId": BOB, "text": "hello again"}, headers=admin_headers)
    assert (cold.status_code, cold.json["details"]["rule"]) == (429, "cold_daily_cap")
    assert known.status_code == 201


def test_an_open_breaker_refuses_sends_and_batches_for_the_rest_of_its_cool_down(
    make_client: Client, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = make_client(**PACED)
    session_id = ready_session(client, admin_headers, redis_conn)
    state, now_ms = PacingState(redis_conn, Keys("openwa")), int(time.time() * 1000)
    assert not state.record_failure(session_id, threshold=2, cooldown_ms=60_000, now_ms=now_ms)
    assert state.record_failure(session_id, threshold=2, cooldown_ms=60_000, now_ms=now_ms)

    single = client.post(
        f"/api/sessions/{session_id}/messages/send-text",
        json={"chatId": BOB, "text": "hi"},
        headers=admin_headers,
    )
    bulk = client.post(
        f"/api/sessions/{session_id}/messages/send-bulk",
        json={"messages": [{"chatId": BOB, "type": "text", "content": {"text": "hi"}}]},
        headers=admin_headers,
    )
    for response in (single, bulk):
        assert (response.status_code, response.json["details"]["rule"]) == (429, "breaker_open")
        assert 55 <= response.json["retryAfterSeconds"] <= 60


def test_pacing_off_never_refuses(
    make_client: Client, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = make_client()
    session_id = ready_session(client, admin_headers, redis_conn)
    state = PacingState(redis_conn, Keys("openwa"))
    for _ in range(30):
        state.record_sent(session_id, BOB, day=datetime.now(UTC).date(), cold=False)
    response = client.post(
        f"/api/sessions/{session_id}/messages/send-text",
        json={"chatId": BOB, "text": "hi"},
        headers=admin_headers,
    )
    assert response.status_code == 201


def bulk_body(count: int = 3, **options: Any) -> dict[str, Any]:
    messages = [
        {
            "chatId": BOB,
            "type": "text",
            "content": {"text": "Hi {{name}} #{{n}}"},
            "variables": {"name": "Bob", "n": str(i)},
        }
        for i in range(count)
    ]
    return {"batchId": "launch-1", "messages": messages, "options": {"randomizeDelay": False, **options}}


def test_a_batch_is_stored_whole_with_each_send_due_at_its_delay(
    make_client: Client, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = make_client()
    session_id = ready_session(client, admin_headers, redis_conn)
    started = time.time()
    response = client.post(
        f"/api/sessions/{session_id}/messages/send-bulk",
        json=bulk_body(delayBetweenMessages=2000),
        headers=admin_headers,
    )
    assert response.status_code == 202, response.json
    envelope = response.json
    assert envelope["batchId"] == "launch-1"
    assert (envelope["status"], envelope["totalMessages"]) == ("pending", 3)
    assert envelope["statusUrl"] == f"/api/sessions/{session_id}/messages/batch/launch-1"
    finish = datetime.fromisoformat(envelope["estimatedCompletionTime"]).timestamp()
    assert 3.5 <= finish - started <= 5

    assert queued(redis_conn, session_id) == 1  # the first at once, the others wait for their time
    registry = ScheduledJobRegistry(session_queue_name(session_id), connection=redis_conn)
    due = sorted(registry.connection.zrange(registry.key, 0, -1, withscores=True), key=lambda item: item[1])
    offsets = [score - started for _, score in due]  # RQ scores whole seconds; we round up, never early
    assert len(offsets) == 2
    assert 2 <= offsets[0] < 3.5
    assert 4 <= offsets[1] < 5.5

    batch = client.get(f"/api/sessions/{session_id}/messages/batch/launch-1", headers=admin_headers).json
    assert batch["status"] == "processing"
    assert batch["progress"] == {"total": 3, "sent": 0, "failed": 0, "pending": 3, "cancelled": 0}
    first = batch["results"][0]
    assert (first["chatId"], first["status"]) == (BOB, "pending")
    record = client.get(
        f"/api/sessions/{session_id}/messages/{BOB}/{first['messageId']}", headers=admin_headers
    ).json
    assert (record["body"], record["batchId"], record["status"]) == ("Hi Bob #0", "launch-1", "pending")


def test_cancelling_a_batch_fails_its_pending_messages_and_only_once(
    make_client: Client, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = make_client()
    session_id = ready_session(client, admin_headers, redis_conn)
    base = f"/api/sessions/{session_id}/messages"
    assert client.post(f"{base}/send-bulk", json=bulk_body(), headers=admin_headers).status_code == 202

    cancelled = client.post(f"{base}/batch/launch-1/cancel", headers=admin_headers)
    assert cancelled.status_code == 200
    assert cancelled.json == {
        "batchId": "launch-1",
        "status": "cancelled",
        "progress": {"total": 3, "sent": 0, "failed": 0, "pending": 0, "cancelled": 3},
    }
    batch = client.get(f"{base}/batch/launch-1", headers=admin_headers).json
    assert batch["completedAt"]
    assert {r["error"]["code"] for r in batch["results"]} == {"BATCH_CANCELLED"}
    again = client.post(f"{base}/batch/launch-1/cancel", headers=admin_headers)
    assert (again.status_code, again.json["code"]) == (400, "BATCH_NOT_CANCELLABLE")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda body: body["messages"].__setitem__(
                0, {"chatId": BOB, "type": "image", "content": {"text": "x"}}
            ),
            "content",
        ),
        (lambda body: body.__setitem__("messages", body["messages"] * 34), "messages"),
        (lambda body: body["options"].__setitem__("delayBetweenMessages", 500), "options"),
        (lambda body: body["messages"][0].__setitem__("chatId", "nobody"), "chatId"),
        (lambda body: body.__setitem__("colour", "red"), "colour"),
    ],
)
def test_bad_batches_are_400_naming_the_field(
    make_client: Client,
    admin_headers: dict[str, str],
    redis_conn: Redis,
    change: Callable[[dict[str, Any]], None],
    field: str,
) -> None:
    client = make_client()
    session_id = ready_session(client, admin_headers, redis_conn)
    body = bulk_body()
    change(body)
    response = client.post(f"/api/sessions/{session_id}/messages/send-bulk", json=body, headers=admin_headers)
    assert response.status_code == 400
    assert field in str(response.json["details"]["fields"])
    assert queued(redis_conn, session_id) == 0


def test_a_taken_batch_id_is_409_an_unknown_one_404_and_an_unready_session_409(
    make_client: Client, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = make_client()
    session_id = ready_session(client, admin_headers, redis_conn)
    base = f"/api/sessions/{session_id}/messages"
    assert client.post(f"{base}/send-bulk", json=bulk_body(), headers=admin_headers).status_code == 202
    taken = client.post(f"{base}/send-bulk", json=bulk_body(), headers=admin_headers)
    assert (taken.status_code, taken.json["code"]) == (409, "BATCH_ALREADY_EXISTS")
    for response in (
        client.get(f"{base}/batch/nope", headers=admin_headers),
        client.post(f"{base}/batch/nope/cancel", headers=admin_headers),
    ):
        assert (response.status_code, response.json["code"]) == (404, "BATCH_NOT_FOUND")
    idle = client.post("/api/sessions", json={"name": "idle"}, headers=admin_headers).json["id"]
    refused = client.post(f"/api/sessions/{idle}/messages/send-bulk", json=bulk_body(), headers=admin_headers)
    assert (refused.status_code, refused.json["code"]) == (409, "SESSION_NOT_READY")


def test_a_scheduled_send_is_released_when_due_never_before_and_a_past_one_at_once(redis_conn: Redis) -> None:
    due = datetime.fromtimestamp(int(time.time()) + 2, UTC)
    with redis_conn.pipeline() as pipe:
        enqueue_send(redis_conn, "s1", "m-later", pipeline=pipe, send_at=due)
        enqueue_send(redis_conn, "s1", "m-past", pipeline=pipe, send_at=due - timedelta(hours=1))
        pipe.execute()
    queue = Queue(session_queue_name("s1"), connection=redis_conn)
    assert [job.args for job in queue.jobs] == [("s1", "m-past")]

    # A call that ended before the due time must release nothing; one that began after it must release the
    # send; one that straddles it may do either (the clock is read around each call, never just before it).
    while True:
        started = time.time()
        released = release_due_jobs(redis_conn, "s1")
        if time.time() < due.timestamp():
            assert released == 0
        if released:
            break
        assert started < due.timestamp(), "a due send was not released"
        time.sleep(0.05)
    assert released == 1
    assert release_due_jobs(redis_conn, "s1") == 0
    assert [job.args for job in queue.jobs] == [("s1", "m-past"), ("s1", "m-later")]


def test_a_batch_may_send_stored_templates_by_id_or_name_filled_from_each_items_variables(
    make_client: Client, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    client = make_client()
    session_id = ready_session(client, admin_headers, redis_conn)
    base = f"/api/sessions/{session_id}"
    template = client.post(
        f"{base}/templates",
        json={"name": "order_ready", "body": "Order {{order}} is ready, {{name}}.", "footer": "Shop"},
        headers=admin_headers,
    ).json
    body = {
        "batchId": "orders",
        "options": {"randomizeDelay": False},
        "messages": [
            {
                "chatId": BOB,
                "type": "text",
                "content": {"templateId": template["id"]},
                "variables": {"order": "A-1", "name": "Bob"},
            },
            {
                "chatId": CAROL,
                "type": "text",
                "content": {"templateName": "order_ready"},
                "variables": {"order": "B-2", "name": "Carol"},
            },
        ],
    }
    assert client.post(f"{base}/messages/send-bulk", json=body, headers=admin_headers).status_code == 202

    batch = client.get(f"{base}/messages/batch/orders", headers=admin_headers).json
    texts = [
        client.get(f"{base}/messages/{result['chatId']}/{result['messageId']}", headers=admin_headers).json[
            "body"
        ]
        for result in batch["results"]
    ]
    assert texts == ["Order A-1 is ready, Bob.\n\nShop", "Order B-2 is ready, Carol.\n\nShop"]


@pytest.mark.parametrize(
    ("content", "variables", "status", "code"),
    [
        ({"templateName": "order_ready"}, {"order": "A-1"}, 400, "TEMPLATE_VARIABLE_MISSING"),
        ({"templateName": "no_such_template"}, {}, 404, "TEMPLATE_NOT_FOUND"),
        ({"templateName": "order_ready", "text": "both"}, {}, 400, "VALIDATION_ERROR"),
    ],
)
def test_a_batch_naming_a_bad_template_is_refused_whole_naming_the_item(
    make_client: Client,
    admin_headers: dict[str, str],
    redis_conn: Redis,
    content: dict[str, str],
    variables: dict[str, str],
    status: int,
    code: str,
) -> None:
    client = make_client()
    session_id = ready_session(client, admin_headers, redis_conn)
    base = f"/api/sessions/{session_id}"
    client.post(
        f"{base}/templates",
        json={"name": "order_ready", "body": "{{order}} for {{name}}"},
        headers=admin_headers,
    )
    good = {"chatId": BOB, "type": "text", "content": {"text": "first"}}
    bad = {"chatId": CAROL, "type": "text", "content": content, "variables": variables}
    response = client.post(
        f"{base}/messages/send-bulk",
        json={"batchId": "b", "messages": [good, bad]},
        headers=admin_headers,
    )
    assert (response.status_code, response.json["code"]) == (status, code), response.json
    if status != 400 or code != "VALIDATION_ERROR":
        assert response.json["details"]["index"] == 1
    assert queued(redis_conn, session_id) == 0
    assert client.get(f"{base}/messages/batch/b", headers=admin_headers).status_code == 404
