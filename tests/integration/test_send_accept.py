"""A send is accepted in one Lua call that writes the record, its indexes, the RQ job (written by hand, as
RQ's own enqueue would) and the Idempotency-Key answer, all or nothing: RQ reads the job back as its own,
and concurrent requests with one key send once."""

from __future__ import annotations

import zlib
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from redis import Redis
from rq.job import Job, JobStatus
from rq.utils import now
from werkzeug.test import TestResponse

from functions.config import Settings
from functions.core.enums import SessionStatus
from functions.queueing import SEND_JOB_OPTIONS, SessionJob, send_job, session_queue
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository

BOB = "15550002222@c.us"


def test_the_hand_written_send_job_is_the_job_rq_would_write(redis_conn: Redis) -> None:
    ours = send_job("session-1", "message-1")
    queue = session_queue(redis_conn, "session-1")
    theirs = queue.create_job(
        SessionJob.SEND_MESSAGE,
        args=("session-1", "message-1"),
        timeout=SEND_JOB_OPTIONS.timeout,
        result_ttl=SEND_JOB_OPTIONS.result_ttl,
        failure_ttl=SEND_JOB_OPTIONS.failure_ttl,
        status=JobStatus.QUEUED,
    )
    theirs.origin, theirs.enqueued_at = queue.name, now()
    expected = {name: value for name, value in theirs.to_dict().items() if value is not None}
    written = dict(zip(ours.fields[::2], ours.fields[1::2], strict=True))
    # The call is written uncompressed (RQ reads both): the same bytes as RQ's once inflated.
    assert written["data"] == zlib.decompress(expected["data"])
    apart = ("created_at", "enqueued_at", "data")
    assert {k: v for k, v in written.items() if k not in apart} == {
        k: v for k, v in expected.items() if k not in apart
    }
    assert (ours.queue_key, ours.job_key) == (queue.key, Job.key_for(ours.job_id))
    redis_conn.hset(ours.job_key, mapping=written)
    restored = Job.fetch(ours.job_id, connection=redis_conn)
    assert (restored.func_name, restored.args, restored.kwargs) == (
        SessionJob.SEND_MESSAGE,
        ("session-1", "message-1"),
        {},
    )


def _ready_session(app: Flask, settings: Settings, redis_conn: Redis, headers: dict[str, str]) -> str:
    client = app.test_client()
    session_id: str = client.post("/api/sessions", json={"name": "accept"}, headers=headers).json["id"]  # type: ignore[index]
    SessionRepository(redis_conn, Keys(settings.redis_prefix)).update(session_id, status=SessionStatus.READY)
    return session_id


def test_an_accepted_send_is_a_record_and_a_job_rq_runs_as_its_own(
    app: Flask, settings: Settings, redis_conn: Redis, admin_headers: dict[str, str]
) -> None:
    session_id = _ready_session(app, settings, redis_conn, admin_headers)
    response = app.test_client().post(
        f"/api/sessions/{session_id}/messages/send-text",
        json={"chatId": BOB, "text": "hello"},
        headers=admin_headers,
    )
    assert response.status_code == 201, response.json
    message_id = response.json["messageId"]  # type: ignore[index]

    [job] = session_queue(redis_conn, session_id).jobs  # RQ lists the queue and loads the job
    assert (job.func_name, job.args, job.kwargs) == (SessionJob.SEND_MESSAGE, (session_id, message_id), {})
    assert (job.get_status(), job.origin, job.timeout) == (JobStatus.QUEUED, f"session:{session_id}", 120)
    assert job.description == f"{SessionJob.SEND_MESSAGE}({session_id!r}, {message_id!r})"
    record = app.test_client().get(
        f"/api/sessions/{session_id}/messages/{BOB}/{message_id}", headers=admin_headers
    )
    assert record.status_code == 200
    assert (record.json["status"], record.json["body"]) == ("pending", "hello")  # type: ignore[index]
    assert "sendAttempts" not in record.json  # type: ignore[operator]


def test_concurrent_sends_with_one_idempotency_key_write_one_record_and_one_job(
    app: Flask, settings: Settings, redis_conn: Redis, admin_headers: dict[str, str]
) -> None:
    session_id = _ready_session(app, settings, redis_conn, admin_headers)
    headers = {**admin_headers, "Idempotency-Key": "order-7"}

    def send(_: int) -> tuple[int, str]:
        response = app.test_client().post(
            f"/api/sessions/{session_id}/messages/send-text",
            json={"chatId": BOB, "text": "once"},
            headers=headers,
        )
        return response.status_code, response.json["messageId"]  # type: ignore[index]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))

    assert {status for status, _ in answers} == {201}
    assert len({message_id for _, message_id in answers}) == 1
    assert len(session_queue(redis_conn, session_id).jobs) == 1
    listing = app.test_client().get(f"/api/sessions/{session_id}/messages", headers=admin_headers)
    assert listing.json["total"] == 1  # type: ignore[index]


def _send(app: Flask, session_id: str, headers: dict[str, str], **body: object) -> TestResponse:
    return app.test_client().post(
        f"/api/sessions/{session_id}/messages/send-text",
        json={"chatId": BOB, "text": "hi", **body},
        headers=headers,
    )


def test_a_send_to_a_missing_or_unready_session_is_refused_and_writes_nothing(
    app: Flask, settings: Settings, redis_conn: Redis, admin_headers: dict[str, str]
) -> None:
    session_id: str = (
        app.test_client().post("/api/sessions", json={"name": "unready"}, headers=admin_headers).json["id"]
    )  # type: ignore[index]
    before = set(redis_conn.keys("*"))
    keyed = {**admin_headers, "Idempotency-Key": "k-1"}

    missing = _send(app, "no-such-session", keyed)
    refused = _send(app, session_id, keyed)

    assert (missing.status_code, missing.json["code"]) == (404, "SESSION_NOT_FOUND")  # type: ignore[index]
    assert (refused.status_code, refused.json["code"]) == (409, "SESSION_NOT_READY")  # type: ignore[index]
    assert refused.json["details"] == {"status": "created", "sessionId": session_id}  # type: ignore[index]
    assert set(redis_conn.keys("*")) == before  # no record, job, hold or kept answer


def test_a_queued_send_to_an_unready_session_is_held_not_queued(
    app: Flask, settings: Settings, redis_conn: Redis, admin_headers: dict[str, str]
) -> None:
    keys = Keys(settings.redis_prefix)
    session_id: str = (
        app.test_client().post("/api/sessions", json={"name": "later"}, headers=admin_headers).json["id"]
    )  # type: ignore[index]

    held = _send(app, session_id, admin_headers, queue=True)

    assert held.status_code == 201, held.json
    assert redis_conn.zrange(keys.held_messages(session_id), 0, -1) == [held.json["messageId"].encode()]  # type: ignore[index]
    assert session_queue(redis_conn, session_id).jobs == []


def test_a_send_records_the_sessions_own_number_as_its_sender(
    app: Flask, settings: Settings, redis_conn: Redis, admin_headers: dict[str, str]
) -> None:
    session_id = _ready_session(app, settings, redis_conn, admin_headers)
    SessionRepository(redis_conn, Keys(settings.redis_prefix)).update(session_id, phone="15550001111")

    message_id = _send(app, session_id, admin_headers).json["messageId"]  # type: ignore[index]

    record = app.test_client().get(
        f"/api/sessions/{session_id}/messages/{BOB}/{message_id}", headers=admin_headers
    )
    assert record.json["from"] == "15550001111@c.us"  # type: ignore[index]
    by_sender = app.test_client().get(
        f"/api/sessions/{session_id}/messages",
        query_string={"from": "15550001111@c.us"},
        headers=admin_headers,
    )
    assert [m["id"] for m in by_sender.json["messages"]] == [message_id]  # type: ignore[index]


def test_a_kept_answer_is_given_again_after_the_session_stopped_being_ready(
    app: Flask, settings: Settings, redis_conn: Redis, admin_headers: dict[str, str]
) -> None:
    session_id = _ready_session(app, settings, redis_conn, admin_headers)
    headers = {**admin_headers, "Idempotency-Key": "order-8"}
    first = _send(app, session_id, headers)
    SessionRepository(redis_conn, Keys(settings.redis_prefix)).update(
        session_id, status=SessionStatus.DISCONNECTED
    )

    again = _send(app, session_id, headers)

    assert (again.status_code, again.json) == (201, first.json)
    assert len(session_queue(redis_conn, session_id).jobs) == 1


def test_a_send_and_the_session_list_work_after_redis_forgot_its_scripts(
    app: Flask, settings: Settings, redis_conn: Redis, admin_headers: dict[str, str]
) -> None:
    """Both run their scripts by SHA on the request thread's own connection; a Redis that restarted (or had
    its scripts flushed) answers NOSCRIPT, and the script is loaded and run again, once."""
    session_id = _ready_session(app, settings, redis_conn, admin_headers)
    client = app.test_client()
    send = {"chatId": BOB, "text": "before"}
    path = f"/api/sessions/{session_id}/messages/send-text"
    assert client.post(path, json=send, headers=admin_headers).status_code == 201
    assert client.get("/api/sessions", headers=admin_headers).status_code == 200

    redis_conn.script_flush()
    sent = client.post(path, json={**send, "text": "after"}, headers=admin_headers)
    listed = client.get("/api/sessions", headers=admin_headers)

    assert sent.status_code == 201, sent.json
    assert listed.status_code == 200
    assert session_id in {session["id"] for session in listed.json}  # type: ignore[union-attr]
    assert len(session_queue(redis_conn, session_id).jobs) == 2
