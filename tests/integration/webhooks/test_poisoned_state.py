"""One bad stored item never blocks the others: a record an older version could write (a lone surrogate in a
string, stored by `json.dumps` as the escape `\\ud800`, or a field that is not JSON at all) is logged and
skipped by the lists, the webhook fan-out, the event reconciler and the runners' view of the sessions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from redis import Redis

from functions.config import Settings
from functions.state.deliveries import DeliveryRepository
from functions.state.events import EventLog
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository
from functions.webhooks.dispatch import publish_event, reconcile_pending
from functions.webhooks.maintenance import run_maintenance
from runner.supervisor import Supervisor
from tests.integration.webhooks.conftest import Receiver, expected_delivery_id

LONE_SURROGATE_URL = "http://127.0.0.1:9/\ud800"


def _session(app: Flask, headers: dict[str, str], name: str) -> str:
    response = app.test_client().post("/api/sessions", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def _hook(app: Flask, headers: dict[str, str], session_id: str, url: str) -> str:
    response = app.test_client().post(
        f"/api/sessions/{session_id}/webhooks", json={"url": url}, headers=headers
    )
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def _poison_copy(conn: Redis, keys: Keys, healthy_id: str, poisoned_id: str, **fields: bytes) -> None:
    """Store a copy of a healthy webhook under a new id, some fields replaced by raw stored values, indexed
    first (older than every healthy one), as an older version's write would have left it."""
    record: dict[Any, Any] = conn.hgetall(keys.webhook(healthy_id))
    record[b"id"] = json.dumps(poisoned_id).encode()
    record.update({name.encode(): value for name, value in fields.items()})
    session_id = json.loads(record[b"session_id"])
    conn.hset(keys.webhook(poisoned_id), mapping=record)
    conn.zadd(keys.session_webhooks(session_id), {poisoned_id: 0})
    conn.zadd(keys.webhooks, {poisoned_id: 0})


@pytest.fixture
def poisoned(
    wh_app: Flask, wh_settings: Settings, redis_conn: Redis, admin_headers: dict[str, str], receiver: Receiver
) -> dict[str, str]:
    """Sessions A and B with a healthy webhook each, and two poisoned webhooks on A."""
    keys = Keys(wh_settings.redis_prefix)
    ids = {"a": _session(wh_app, admin_headers, "alpha"), "b": _session(wh_app, admin_headers, "bravo")}
    ids["hook_a"] = _hook(wh_app, admin_headers, ids["a"], receiver.url)
    ids["hook_b"] = _hook(wh_app, admin_headers, ids["b"], receiver.url)
    # `json.dumps` (ensure_ascii) writes a lone surrogate as the escape `\ud800`, as older versions stored it.
    _poison_copy(redis_conn, keys, ids["hook_a"], "poison-url", url=json.dumps(LONE_SURROGATE_URL).encode())
    _poison_copy(redis_conn, keys, ids["hook_a"], "poison-garbage", events=b"not json {")
    return ids


def test_lists_skip_a_poisoned_webhook(
    wh_app: Flask, admin_headers: dict[str, str], poisoned: dict[str, str]
) -> None:
    client = wh_app.test_client()
    everything = client.get("/api/webhooks", headers=admin_headers)
    assert everything.status_code == 200, everything.json
    assert [hook["id"] for hook in everything.json] == [poisoned["hook_a"], poisoned["hook_b"]]
    of_a = client.get(f"/api/sessions/{poisoned['a']}/webhooks", headers=admin_headers)
    assert (of_a.status_code, [hook["id"] for hook in of_a.json]) == (200, [poisoned["hook_a"]])


def test_a_poisoned_webhook_can_still_be_deleted(
    wh_app: Flask,
    admin_headers: dict[str, str],
    redis_conn: Redis,
    wh_settings: Settings,
    poisoned: dict[str, str],
) -> None:
    client = wh_app.test_client()
    for hook_id in ("poison-url", "poison-garbage"):
        base = f"/api/sessions/{poisoned['a']}/webhooks/{hook_id}"
        assert client.get(base, headers=admin_headers).json["code"] == "RECORD_UNREADABLE"
        assert (
            client.delete(
                f"/api/sessions/{poisoned['b']}/webhooks/{hook_id}", headers=admin_headers
            ).status_code
            == 404
        )
        assert client.delete(base, headers=admin_headers).status_code == 204
        assert not redis_conn.exists(Keys(wh_settings.redis_prefix).webhook(hook_id))
    assert len(client.get(f"/api/sessions/{poisoned['a']}/webhooks", headers=admin_headers).json) == 1


def test_fan_out_serves_the_healthy_webhooks_of_a_session_with_a_poisoned_one(
    wh_settings: Settings, redis_conn: Redis, poisoned: dict[str, str]
) -> None:
    event_id = publish_event(redis_conn, wh_settings, poisoned["a"], "message.received", {"id": "m1"})
    deliveries = DeliveryRepository(redis_conn, Keys(wh_settings.redis_prefix))
    assert deliveries.get(expected_delivery_id(poisoned["a"], event_id, poisoned["hook_a"])) is not None
    assert deliveries.get(expected_delivery_id(poisoned["a"], event_id, "poison-url")) is None


def test_the_reconciler_skips_a_poisoned_event_and_fans_out_the_others(
    wh_settings: Settings, redis_conn: Redis, poisoned: dict[str, str]
) -> None:
    keys = Keys(wh_settings.redis_prefix)
    events = EventLog(redis_conn, keys, maxlen=wh_settings.event_stream_maxlen)
    # Both marked pending long ago (their producer "died"); the poisoned one is older, so it comes first.
    bad = events.append(poisoned["a"], "message.received", b'{"body": "\\ud800"}', "2020-01-01T00:00:00Z", 1)
    not_json = events.append(poisoned["a"], "message.received", b"{oops", "2020-01-01T00:00:00Z", 2)
    good = events.append(poisoned["b"], "message.received", b'{"id": "m2"}', "2020-01-01T00:00:00Z", 3)

    assert run_maintenance(redis_conn, wh_settings) is True
    reconcile_pending(redis_conn, wh_settings)  # what the loop calls; must not raise either

    deliveries = DeliveryRepository(redis_conn, keys)
    assert deliveries.get(expected_delivery_id(poisoned["b"], good, poisoned["hook_b"])) is not None
    assert deliveries.get(expected_delivery_id(poisoned["a"], bad, poisoned["hook_a"])) is None
    assert deliveries.get(expected_delivery_id(poisoned["a"], not_json, poisoned["hook_a"])) is None
    assert redis_conn.zcard(keys.events_pending) == 0  # logged and dropped, not retried forever


def test_a_poisoned_session_record_is_skipped_by_lists_and_by_the_runners_view(
    wh_app: Flask,
    wh_settings: Settings,
    redis_conn: Redis,
    admin_headers: dict[str, str],
    poisoned: dict[str, str],
) -> None:
    keys = Keys(wh_settings.redis_prefix)
    repo = SessionRepository(redis_conn, keys)
    record = json.loads(redis_conn.get(keys.session(poisoned["a"])) or b"")
    for session_id, raw in (
        ("poison-name", json.dumps({**record, "id": "poison-name", "name": "x\ud800"}).encode()),
        ("poison-status", json.dumps({**record, "id": "poison-status", "status": "exploded"}).encode()),
        ("poison-garbage", b"{not json"),
    ):
        redis_conn.set(keys.session(session_id), raw)
        redis_conn.zadd(keys.sessions, {session_id: 0})

    # What the runner supervisor converges on: every session it can read.
    assert [session.id for session in repo.get_many(repo.all_ids())] == [poisoned["a"], poisoned["b"]]
    listed = wh_app.test_client().get("/api/sessions", headers=admin_headers)
    assert listed.status_code == 200, listed.json
    assert [session["id"] for session in listed.json] == [poisoned["a"], poisoned["b"]]


def test_a_runner_keeps_converging_past_a_poisoned_session_record(
    wh_settings: Settings, redis_conn: Redis, poisoned: dict[str, str]
) -> None:
    keys = Keys(wh_settings.redis_prefix)
    redis_conn.set(keys.session("poison-runner"), b'{"id": "poison-runner", "name": "\\ud800"}')
    redis_conn.zadd(keys.sessions, {"poison-runner": 0})
    supervisor = Supervisor(wh_settings, runner_id="runner-under-test")
    supervisor.tick()  # heartbeat, reap, converge: none of it stopped by the bad record
    assert supervisor.children == {}  # nothing here wants running: the healthy sessions are stopped ones
