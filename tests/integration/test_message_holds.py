"""Sends held while their session is not ready keep their order: a send accepted while any are held waits
behind them, and the session process releases them to the queue in one step (DESIGN §1.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from redis import Redis
from redis.client import Pipeline

from functions.config import Settings
from functions.core.enums import SessionStatus
from functions.queueing import enqueue_send, session_queue
from functions.state.keys import Keys
from functions.state.messages import MessageRepository
from functions.state.sessions import SessionRepository

BOB = "15550002222"


def send(client: FlaskClient, headers: dict[str, str], session_id: str, text: str, **extra: object) -> str:
    body = {"chatId": BOB, "text": text, **extra}
    response = client.post(f"/api/sessions/{session_id}/messages/send-text", json=body, headers=headers)
    assert response.status_code == 201, response.json
    message_id: str = response.json["messageId"]  # type: ignore[index]
    return message_id


def queued(conn: Redis, session_id: str) -> list[str]:
    """The message ids the session's queue will send, in order."""
    return [job.args[1] for job in session_queue(conn, session_id).jobs]


def release(conn: Redis, repo: MessageRepository, session_id: str) -> int:
    def enqueue(message_id: str, pipe: Pipeline, at_front: bool) -> None:
        enqueue_send(conn, session_id, message_id, pipeline=pipe, at_front=at_front)

    return repo.release_held(session_id, enqueue)


def test_a_send_accepted_while_earlier_sends_are_held_waits_behind_them(
    client: FlaskClient, admin_headers: dict[str, str], settings: Settings, redis_conn: Redis
) -> None:
    keys = Keys(settings.redis_prefix)
    session_id = client.post("/api/sessions", json={"name": "holds"}, headers=admin_headers).json["id"]  # type: ignore[index]
    first = send(client, admin_headers, session_id, "while starting", queue=True)
    SessionRepository(redis_conn, keys).update(session_id, status=SessionStatus.READY)
    second = send(client, admin_headers, session_id, "ready, but the first is still held")
    assert queued(redis_conn, session_id) == []

    repo = MessageRepository(redis_conn, keys, retention_seconds=3600)
    assert release(redis_conn, repo, session_id) == 2
    third = send(client, admin_headers, session_id, "nothing held any more")
    assert queued(redis_conn, session_id) == [first, second, third]
    assert repo.held_count(session_id) == 0


def test_a_send_held_while_the_release_runs_is_released_with_it_in_order(
    settings: Settings, redis_conn: Redis
) -> None:
    keys = Keys(settings.redis_prefix)
    repo = MessageRepository(redis_conn, keys, retention_seconds=3600)
    repo.hold("s1", "3EB0A")
    api = MessageRepository(Redis.from_url(settings.redis_url), keys, retention_seconds=3600)  # as the API
    holds_meanwhile = ["3EB0B"]

    def enqueue(message_id: str, pipe: Pipeline, at_front: bool) -> None:
        if holds_meanwhile:  # between the release reading the list and committing
            api.hold("s1", holds_meanwhile.pop())
        enqueue_send(redis_conn, "s1", message_id, pipeline=pipe, at_front=at_front)

    assert repo.release_held("s1", enqueue) == 2
    assert queued(redis_conn, "s1") == ["3EB0A", "3EB0B"]
    assert repo.held_count("s1") == 0


@dataclass
class Dropped:
    """A session that dropped with sends A and B on its queue, after its process took A and held it, and
    the API then held C (accepted with `queue: true`)."""

    session_id: str
    a: str
    b: str
    c: str
    sessions: SessionRepository
    repo: MessageRepository


def dropped_with_a_held(
    client: FlaskClient, headers: dict[str, str], settings: Settings, conn: Redis, name: str
) -> Dropped:
    keys = Keys(settings.redis_prefix)
    sessions, repo = SessionRepository(conn, keys), MessageRepository(conn, keys, retention_seconds=3600)
    session_id = client.post("/api/sessions", json={"name": name}, headers=headers).json["id"]  # type: ignore[index]
    sessions.update(session_id, status=SessionStatus.READY)
    first, second = (send(client, headers, session_id, text) for text in ("A", "B"))
    sessions.update(session_id, status=SessionStatus.DISCONNECTED)
    queue = session_queue(conn, session_id)
    queue.remove(queue.jobs[0])
    repo.hold(session_id, first)  # the process took A's job and found the session down
    third = send(client, headers, session_id, "C", queue=True)
    return Dropped(session_id, first, second, third, sessions, repo)


def test_sends_found_unready_by_the_session_go_back_ahead_of_sends_accepted_after_them(
    client: FlaskClient, admin_headers: dict[str, str], settings: Settings, redis_conn: Redis
) -> None:
    """Then the process takes B and holds it too. Released, they go A, B, C: B keeps the place it was
    accepted in, ahead of C."""
    dropped = dropped_with_a_held(client, admin_headers, settings, redis_conn, "drops")
    queue = session_queue(redis_conn, dropped.session_id)
    queue.remove(queue.jobs[0])
    dropped.repo.hold(dropped.session_id, dropped.b)

    assert release(redis_conn, dropped.repo, dropped.session_id) == 3
    assert queued(redis_conn, dropped.session_id) == [dropped.a, dropped.b, dropped.c]


def test_a_scheduled_send_found_unready_is_held_behind_the_sends_held_before_it_fell_due(
    client: FlaskClient, admin_headers: dict[str, str], settings: Settings, redis_conn: Redis
) -> None:
    keys = Keys(settings.redis_prefix)
    repo = MessageRepository(redis_conn, keys, retention_seconds=3600)
    session_id = client.post("/api/sessions", json={"name": "due"}, headers=admin_headers).json["id"]  # type: ignore[index]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = send(client, admin_headers, session_id, "at its time", sendAt=later)
    waiting = send(client, admin_headers, session_id, "queued while down", queue=True)

    repo.hold(session_id, scheduled)  # it fell due with the session still down

    assert release(redis_conn, repo, session_id) == 2
    assert queued(redis_conn, session_id) == [waiting, scheduled]


def test_sends_taken_off_the_queue_go_back_ahead_of_what_is_still_queued(
    client: FlaskClient, admin_headers: dict[str, str], settings: Settings, redis_conn: Redis
) -> None:
    """Instead, the session is ready again before the process takes B: released, A goes back ahead of B
    (still queued, accepted after A) and C behind it."""
    dropped = dropped_with_a_held(client, admin_headers, settings, redis_conn, "window")
    dropped.sessions.update(dropped.session_id, status=SessionStatus.READY)

    assert release(redis_conn, dropped.repo, dropped.session_id) == 2
    assert queued(redis_conn, dropped.session_id) == [dropped.a, dropped.b, dropped.c]
    keys = Keys(settings.redis_prefix)
    assert (
        redis_conn.exists(keys.held_messages(dropped.session_id), keys.held_off_queue(dropped.session_id))
        == 0
    )
