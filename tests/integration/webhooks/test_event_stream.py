"""The live event stream (Server-Sent Events): a client that reconnects with Last-Event-ID misses nothing,
new events arrive while connected, names filter, and /api/events keeps to the key's sessions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Flask
from redis import Redis

from functions.config import Settings
from functions.webhooks.dispatch import publish_event


def _messages(chunks: Iterator[bytes], count: int) -> list[dict[str, Any]]:
    """Read SSE messages (those with an id) until `count` were seen."""
    found: list[dict[str, Any]] = []
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            raw, buffer = buffer.split(b"\n\n", 1)
            fields = dict(line.split(b": ", 1) for line in raw.split(b"\n") if b": " in line)
            if b"id" in fields:
                found.append(
                    {
                        "id": fields[b"id"].decode(),
                        "event": fields[b"event"].decode(),
                        "data": json.loads(fields[b"data"]),
                    }
                )
        if len(found) >= count:
            return found
    return found


def test_resuming_with_last_event_id_misses_nothing(
    wh_app: Flask, admin_headers: dict[str, str], redis_conn: Redis, wh_settings: Settings
) -> None:
    client = wh_app.test_client()
    session_id = client.post("/api/sessions", json={"name": "sse"}, headers=admin_headers).json["id"]
    ids = [
        publish_event(redis_conn, wh_settings, session_id, "message.received", {"id": f"m-{n}", "n": n})
        for n in range(5)
    ]
    # The client saw event 1, then lost its connection; it reconnects with the last id it saw.
    response = client.get(
        f"/api/sessions/{session_id}/events",
        headers={**admin_headers, "Last-Event-ID": ids[1]},
        buffered=False,
    )
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    caught_up = _messages(chunks, 3)
    assert [m["id"] for m in caught_up] == ids[2:]
    assert [m["data"]["data"]["n"] for m in caught_up] == [2, 3, 4]
    assert caught_up[0]["data"]["sessionId"] == session_id
    # And events published while it is connected arrive too.
    live = publish_event(redis_conn, wh_settings, session_id, "message.ack", {"id": "m-4", "status": "read"})
    assert [m["id"] for m in _messages(chunks, 1)] == [live]
    response.close()


def test_event_names_filter_and_the_all_sessions_stream_keeps_to_the_key(
    wh_app: Flask, admin_headers: dict[str, str], redis_conn: Redis, wh_settings: Settings
) -> None:
    client = wh_app.test_client()
    mine = client.post("/api/sessions", json={"name": "mine"}, headers=admin_headers).json["id"]
    other = client.post("/api/sessions", json={"name": "other"}, headers=admin_headers).json["id"]
    scoped = client.post(
        "/api/auth/api-keys",
        json={"name": "scoped", "role": "viewer", "allowedSessions": [mine]},
        headers=admin_headers,
    ).json["apiKey"]
    first = publish_event(redis_conn, wh_settings, other, "message.received", {"id": "o-0"})
    publish_event(redis_conn, wh_settings, mine, "message.received", {"id": "m-0"})
    publish_event(redis_conn, wh_settings, other, "message.received", {"id": "o-1"})
    publish_event(redis_conn, wh_settings, mine, "session.status", {"status": "ready"})
    publish_event(redis_conn, wh_settings, mine, "message.received", {"id": "m-1"})
    del first

    response = client.get(
        "/api/events?events=message.received&lastEventId=0-0", headers={"X-API-Key": scoped}, buffered=False
    )
    got = _messages(iter(response.response), 2)
    response.close()
    assert [(m["data"]["sessionId"], m["data"]["data"]["id"]) for m in got] == [(mine, "m-0"), (mine, "m-1")]


def test_bad_stream_requests_are_4xx_with_a_code(wh_app: Flask, admin_headers: dict[str, str]) -> None:
    client = wh_app.test_client()
    session_id = client.post("/api/sessions", json={"name": "bad-sse"}, headers=admin_headers).json["id"]
    cases = [
        (f"/api/sessions/{session_id}/events", {"Last-Event-ID": "yesterday"}, 400, "VALIDATION_ERROR"),
        (f"/api/sessions/{session_id}/events?events=nope", {}, 400, "VALIDATION_ERROR"),
        ("/api/sessions/missing/events", {}, 404, "SESSION_NOT_FOUND"),
        ("/api/events", {"X-API-Key": "owa_k1_" + "0" * 64}, 401, "UNAUTHORIZED"),
    ]
    for path, extra, status, code in cases:
        response = client.get(path, headers={**admin_headers, **extra})
        assert (response.status_code, response.json["code"]) == (status, code), path
