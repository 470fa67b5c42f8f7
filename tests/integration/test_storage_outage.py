"""Storage that hangs instead of refusing: the first call waits out its timeouts, the next get 503 at once.

The S3 server here is a moto process frozen with SIGSTOP: its listening socket still accepts connections
(the kernel completes the handshake), but nothing ever answers, which is what a wedged storage server or a
black-holed network looks like. Without the breaker every send with media held its request for the whole
client timeout and retries (about 30 s each, seen in the attack run).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from functions.api.app import create_app
from functions.cli.redis_server import free_port
from functions.config import Settings
from functions.core.errors import BlobNotFound
from functions.storage import build_storage
from tests.live import MotoServer

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")).decode()


@pytest.fixture
def moto() -> Iterator[MotoServer]:
    server = MotoServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_settings(make_settings: Callable[..., Settings], moto: MotoServer) -> Settings:
    settings: Settings = make_settings(
        storage_type="s3",
        s3_endpoint=moto.endpoint,
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        storage_breaker_failures=1,
        storage_breaker_reset_seconds=60,
    )
    return settings


def _send_image(
    client: FlaskClient, headers: dict[str, str], session_id: str
) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    answer = client.post(
        f"/api/sessions/{session_id}/messages/send-image",
        json={"chatId": "15550001111@c.us", "base64": PNG, "mimetype": "image/png", "queue": True},
        headers=headers,
    )
    return answer.status_code, answer.get_json(), time.monotonic() - started


def test_frozen_storage_fails_the_first_call_slowly_and_the_next_ones_at_once_until_it_answers_again(
    s3_settings: Settings, moto: MotoServer, admin_headers: dict[str, str]
) -> None:
    client = create_app(s3_settings).test_client()
    session_id = client.post("/api/sessions", json={"name": "outage"}, headers=admin_headers).get_json()["id"]
    assert _send_image(client, admin_headers, session_id)[0] == 201  # storage works: the bucket exists

    moto.freeze()
    first = _send_image(client, admin_headers, session_id)
    second = _send_image(client, admin_headers, session_id)
    assert (first[0], first[1]["code"]) == (503, "STORAGE_UNAVAILABLE")
    assert (second[0], second[1]["code"]) == (503, "STORAGE_UNAVAILABLE")
    assert second[1]["details"]["reason"] == "circuit_open"
    assert second[2] < 0.5, f"the second send waited {second[2]:.1f} s on storage known to be down"

    moto.thaw()
    assert client.get("/api/health/ready").status_code == 200  # the probe reaches storage: calls go through
    assert _send_image(client, admin_headers, session_id)[0] == 201


def test_the_breaker_counts_only_outages_not_missing_objects(s3_settings: Settings) -> None:
    storage = build_storage(s3_settings)
    storage.put("media/s/one", b"x")
    for _ in range(3):  # BlobNotFound is the caller's answer, not an outage
        with pytest.raises(BlobNotFound):
            storage.get("media/s/missing")
    assert not storage.breaker.is_open
    assert storage.get("media/s/one") == b"x"
