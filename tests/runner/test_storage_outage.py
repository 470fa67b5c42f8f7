"""Storage down under traffic: nothing received is lost, media and credentials are stored once it is back.

The stack stores media and auth snapshots in S3 (a moto process). It is stopped (connections refused)
while the session links and a phone sends one photo every 0.6 s and the API sends texts; then started again
on the same port. On the code before this story, the photos that arrived in the outage were never recorded
(no record, no event, nothing later) and the credentials of the link waited for the next periodic snapshot.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from functions.cli.redis_server import free_port
from tests.live import MotoServer
from tests.runner.conftest import Stack, wait_for
from tests.runner.test_session_lifecycle import raw_qr, wait_status

pytestmark = pytest.mark.e2e

ALICE, BOB = "15550001111", "15550002222"
BOB_CHAT = f"{BOB}@c.us"
PHOTOS = 8
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack_settings(moto: MotoServer) -> dict[str, str]:
    return {
        **moto.settings(),
        "AUTH_SNAPSHOT_INTERVAL": "3600",  # only the link's own snapshot can store the credentials
        "STORAGE_BREAKER_RESET_SECONDS": "2",
    }


def _incoming(stack: Stack, session_id: str) -> list[dict[str, Any]]:
    page = stack.client().messages.list(session_id, {"chatId": BOB_CHAT, "limit": 100})
    return [m for m in page["messages"] if m["direction"] == "incoming"]


def _auth_objects(moto: MotoServer, session_id: str) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        listed = s3.list_objects_v2(Bucket="openwa", Prefix=f"auth/{session_id}/")
    except s3.exceptions.NoSuchBucket:
        return []
    return [item["Key"] for item in listed.get("Contents", [])]


def test_storage_down_under_traffic_loses_nothing_and_stores_media_and_credentials_once_back(
    stack: Stack, moto: MotoServer
) -> None:
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-outage")
    client = stack.client()
    session_id = client.sessions.create({"name": "outage"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")

    moto.stop()
    stack.control("POST", f"/phones/{ALICE}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    photo = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png", "filename": "dot.png"}
    for n in range(PHOTOS):
        stack.control(
            "POST",
            f"/phones/{BOB}/messages",
            json={"to": f"{ALICE}@c.us", "media": photo, "caption": f"p{n}"},
        )
        client.messages.send_text(session_id, {"chatId": BOB_CHAT, "text": f"out {n}"})
        time.sleep(0.6)

    # Recorded while storage is still down, media marked pending.
    during = wait_for(
        lambda: (found := _incoming(stack, session_id)) and len(found) >= PHOTOS and found, 30, "records"
    )
    assert sorted(r["metadata"]["caption"] for r in during) == [f"p{n}" for n in range(PHOTOS)]
    assert all(r["metadata"]["media"]["pending"] is True and "media" not in r for r in during)

    moto.start()  # the same port, empty (moto keeps nothing)
    after = wait_for(
        lambda: (found := _incoming(stack, session_id)) and all(r.get("media") for r in found) and found,
        60,
        "media stored after recovery",
    )
    assert len(after) == PHOTOS
    for record in after:
        assert httpx.get(record["media"]["url"], timeout=10).content == PNG
        assert record["metadata"]["media"]["pending"] is False
    wait_for(lambda: _auth_objects(moto, session_id), 60, "the link's auth snapshot")

    events = stack.events(session_id)
    received = [d["id"] for name, d in events if name == "message.received"]
    ready = [d["messageId"] for name, d in events if name == "message.media_ready"]
    ids = {r["id"] for r in after}
    assert sorted(received) == sorted(ids)  # each announced once
    assert sorted(ready) == sorted(ids)
    assert all(d["media"]["url"] for name, d in events if name == "message.media_ready")
    texts = stack.control("GET", f"/phones/{BOB}/messages", params={"chat": f"{ALICE}@c.us"})
    assert sorted(m["body"] for m in texts if m["body"].startswith("out ")) == [
        f"out {n}" for n in range(PHOTOS)
    ]


def test_an_inbound_text_holding_half_a_surrogate_pair_is_recorded_not_dropped(stack: Stack) -> None:
    client = stack.client()
    session_id = next(s["id"] for s in client.sessions.list() if s["name"] == "outage")
    # A raw JSON body: "\ud83d" is the first half of an emoji's surrogate pair, alone.
    body = '{"to": "%s@c.us", "text": "cut \\ud83d here"}' % ALICE  # noqa: UP031 - the escape must stay raw
    answer = httpx.post(
        f"{stack.sandbox_url}/_sandbox/phones/{BOB}/messages",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    found = wait_for(
        lambda: [r for r in _incoming(stack, session_id) if r["body"].startswith("cut ")], 20, "the cut text"
    )
    assert [r["body"] for r in found] == ["cut \ufffd here"]
    assert [
        d["body"]
        for name, d in stack.events(session_id)
        if name == "message.received" and "cut" in d.get("body", "")
    ] == ["cut \ufffd here"]
