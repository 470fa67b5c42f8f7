"""Nothing grows without bound: held sends are capped and expire with their records, sessions are capped,
and a deleted session leaves nothing behind in Redis or storage (issue 22 item 5).

Before: 2,000 `queue: true` sends to an unready session were all held with no TTL, deleting the session left
every record, hold and counter behind, and there was no cap on sessions.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from functions.api.app import create_app
from functions.config import Settings, environment_snapshot
from functions.queueing import DEFAULT_QUEUE
from functions.state.keys import Keys
from functions.state.session_data import session_keys
from functions.storage import build_storage
from tests.live import REPO_ROOT

HELD_CAP = 5
SESSIONS_CAP = 3
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")).decode()


def _run_worker_once(settings: Settings) -> None:
    """An RQ worker process on the `default` queue, with the gateway's settings in its environment (as
    `openwa worker` has them), until the queue is empty."""
    code = (
        "from redis import Redis; from rq import Queue, SimpleWorker; import sys; "
        "conn = Redis.from_url(sys.argv[1]); "
        "SimpleWorker([Queue(sys.argv[2], connection=conn)], connection=conn).work(burst=True)"
    )
    env = {**environment_snapshot(settings), "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run(
        [sys.executable, "-c", code, settings.redis_url, DEFAULT_QUEUE], env=env, check=True, timeout=120
    )


@pytest.fixture
def capped(make_settings: Callable[..., Settings]) -> Settings:
    settings: Settings = make_settings(
        max_held_sends_per_session=HELD_CAP, max_sessions_total=SESSIONS_CAP, ssrf_allowed_hosts="127.0.0.1"
    )
    return settings


@pytest.fixture
def api(capped: Settings) -> FlaskClient:
    return create_app(capped).test_client()


def _session(api: FlaskClient, headers: dict[str, str], name: str) -> str:
    answer = api.post("/api/sessions", json={"name": name}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["id"])


def _hold(api: FlaskClient, headers: dict[str, str], session_id: str, text: str, **extra: Any) -> Any:
    return api.post(
        f"/api/sessions/{session_id}/messages/send-text",
        json={"chatId": "15550002222", "text": text, "queue": True},
        headers={**headers, **extra},
    )


def test_held_sends_stop_at_the_cap_with_nothing_written_and_the_hold_list_expires(
    api: FlaskClient, admin_headers: dict[str, str], capped: Settings, redis_conn: Redis
) -> None:
    session_id = _session(api, admin_headers, "unready")
    for n in range(HELD_CAP):
        assert _hold(api, admin_headers, session_id, f"held {n}").status_code == 201

    refused = _hold(api, admin_headers, session_id, "one too many")
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "TOO_MANY_HELD_SENDS"
    assert refused.get_json()["details"]["limit"] == HELD_CAP
    assert refused.headers["Retry-After"]
    listed = api.get(f"/api/sessions/{session_id}/messages?limit=100", headers=admin_headers).get_json()
    assert sorted(m["body"] for m in listed["messages"]) == [f"held {n}" for n in range(HELD_CAP)]

    holds = Keys(capped.redis_prefix).held_messages(session_id)
    assert redis_conn.zcard(holds) == HELD_CAP
    assert 0 < redis_conn.ttl(holds) <= capped.message_retention_days * 86_400


def test_sessions_stop_at_the_cap_and_a_deleted_one_frees_its_place(
    api: FlaskClient, admin_headers: dict[str, str]
) -> None:
    ids = [_session(api, admin_headers, f"team-{n}") for n in range(SESSIONS_CAP)]
    refused = api.post("/api/sessions", json={"name": "one-more"}, headers=admin_headers)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "SESSION_LIMIT_REACHED"
    assert [s["name"] for s in api.get("/api/sessions", headers=admin_headers).get_json()] == [
        f"team-{n}" for n in range(SESSIONS_CAP)
    ]
    assert api.delete(f"/api/sessions/{ids[0]}", headers=admin_headers).status_code == 204
    assert api.post("/api/sessions", json={"name": "one-more"}, headers=admin_headers).status_code == 201


def test_a_deleted_session_leaves_nothing_in_redis_or_storage_once_purged(
    api: FlaskClient, admin_headers: dict[str, str], capped: Settings, redis_conn: Redis
) -> None:
    session_id = _session(api, admin_headers, "short-lived")
    kept = _session(api, admin_headers, "kept")
    for target in (session_id, kept):
        assert (
            _hold(api, admin_headers, target, "text", **{"Idempotency-Key": f"k-{target}"}).status_code == 201
        )
        image = {"chatId": "15550002222", "base64": PNG, "mimetype": "image/png", "queue": True}
        sent = api.post(f"/api/sessions/{target}/messages/send-image", json=image, headers=admin_headers)
        assert sent.status_code == 201
        hook = {"url": "http://127.0.0.1:9/in", "events": ["message.received"]}
        assert (
            api.post(f"/api/sessions/{target}/webhooks", json=hook, headers=admin_headers).status_code == 201
        )
    keys = Keys(capped.redis_prefix)
    storage = build_storage(capped)
    before_kept = sorted(session_keys(redis_conn, keys, kept))
    assert len(session_keys(redis_conn, keys, session_id)) >= 8  # records, indexes, holds, idempotency...
    assert list(storage.list_keys(f"media/{session_id}/"))

    assert api.delete(f"/api/sessions/{session_id}", headers=admin_headers).status_code == 204
    _run_worker_once(capped)

    assert session_keys(redis_conn, keys, session_id) == []
    assert list(storage.list_keys(f"media/{session_id}/")) == []
    assert sorted(session_keys(redis_conn, keys, kept)) == before_kept  # the other session is untouched
    assert list(storage.list_keys(f"media/{kept}/"))


def test_a_redis_full_to_its_maxmemory_is_503_not_500(
    api: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    session_id = _session(api, admin_headers, "full")
    used = int(redis_conn.info("memory")["used_memory"])
    redis_conn.config_set("maxmemory-policy", "noeviction")
    redis_conn.config_set("maxmemory", used)  # no room for anything more
    try:
        refused = _hold(api, admin_headers, session_id, "no room")
    finally:
        redis_conn.config_set("maxmemory", 0)
    assert refused.status_code == 503
    assert refused.get_json()["code"] == "STATE_UNAVAILABLE"
