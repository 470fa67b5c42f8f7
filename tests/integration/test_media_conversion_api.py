"""Media conversion (issue 18): the convert routes (`{available}`, voice, video) return converted bytes,
refuse bad input per route with a code, answer 503 when conversion is off, and a send that WhatsApp could
not play is converted before it is stored (voice note -> Ogg/Opus, PNG/JPEG sticker -> 512x512 WebP); a file
that cannot be converted is 422 MEDIA_CONVERSION_FAILED and nothing is queued. Real ffmpeg (PyPI
imageio-ffmpeg), real Redis, local storage; media made in the test; the URL source is a local server."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from functions.api.app import create_app
from functions.config import Settings
from functions.core.enums import SessionStatus
from functions.queueing import session_queue
from functions.services.transcode import conversion_slots
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository
from functions.storage import build_storage
from tests.media_samples import avi_clip, is_ogg_opus, mp3_tone, mp4_streams, png, webp_size

BOB = "15550002222@c.us"
MAX_BYTES = 256 * 1024


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    """A local server: `/tone.mp3` is an MP3 tone, anything else 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = mp3_tone() if self.path == "/tone.mp3" else None
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    converted: Settings = make_settings(
        media_conversion_enabled=True, ssrf_allowed_hosts=["127.0.0.1"], media_download_max_bytes=MAX_BYTES
    )
    return converted


@pytest.fixture
def session_id(
    client: FlaskClient, admin_headers: dict[str, str], settings: Settings, redis_conn: Redis
) -> str:
    created = client.post("/api/sessions", json={"name": "media"}, headers=admin_headers)
    session_id = str(created.get_json()["id"])
    SessionRepository(redis_conn, Keys(settings.redis_prefix)).update(session_id, status=SessionStatus.READY)
    return session_id


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_conversion_is_available_and_voice_and_video_come_back_converted(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, remote: str
) -> None:
    base = f"/api/sessions/{session_id}/media/convert"
    assert client.get(base, headers=admin_headers).get_json() == {"available": True}

    voice = client.post(f"{base}/voice", json={"base64": _b64(mp3_tone())}, headers=admin_headers)
    assert voice.status_code == 200, voice.get_json()
    body = voice.get_json()
    data = base64.b64decode(body["base64"])
    assert is_ogg_opus(data)
    assert (body["mimetype"], body["bytes"]) == ("audio/ogg; codecs=opus", len(data))

    by_url = client.post(f"{base}/voice", json={"url": f"{remote}/tone.mp3"}, headers=admin_headers)
    assert is_ogg_opus(base64.b64decode(by_url.get_json()["base64"]))

    video = client.post(f"{base}/video", json={"base64": _b64(avi_clip())}, headers=admin_headers)
    assert video.status_code == 200, video.get_json()
    mp4 = base64.b64decode(video.get_json()["base64"])
    assert (mp4[4:8], video.get_json()["mimetype"]) == (b"ftyp", "video/mp4")
    streams = mp4_streams(mp4)
    for expected in ("h264 (Constrained Baseline)", "aac", "640x360"):
        assert expected in streams


@pytest.mark.parametrize("target", ["voice", "video"])
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "VALIDATION_ERROR"),
        ({"base64": "AAAA", "url": "http://127.0.0.1/x.mp3"}, 400, "VALIDATION_ERROR"),
        ({"base64": "not base64!"}, 400, "INVALID_MEDIA"),
        ({"base64": ""}, 400, "VALIDATION_ERROR"),
        ({"url": "ftp://127.0.0.1/x.mp3"}, 400, "VALIDATION_ERROR"),
        ({"url": "http://10.1.2.3/x.mp3"}, 400, "MEDIA_URL_REFUSED"),
        ({"base64": "AAAA", "colour": "red"}, 400, "VALIDATION_ERROR"),
        ({"base64": _b64(b"\0" * (MAX_BYTES + 1))}, 413, "MEDIA_TOO_LARGE"),
        ({"base64": _b64(b"this is not audio or video at all" * 20)}, 422, "MEDIA_CONVERSION_FAILED"),
    ],
)
def test_bad_input_to_a_convert_route_is_refused_with_a_code(
    client: FlaskClient,
    admin_headers: dict[str, str],
    session_id: str,
    target: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    refused = client.post(
        f"/api/sessions/{session_id}/media/convert/{target}", json=body, headers=admin_headers
    )
    assert (refused.status_code, refused.get_json()["code"]) == (status, code)


def test_audio_without_a_picture_is_no_video_and_the_routes_need_a_session_and_an_operator(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, remote: str
) -> None:
    base = f"/api/sessions/{session_id}/media/convert"
    no_picture = client.post(f"{base}/video", json={"base64": _b64(mp3_tone())}, headers=admin_headers)
    assert (no_picture.status_code, no_picture.get_json()["code"]) == (422, "MEDIA_CONVERSION_FAILED")
    missing = client.post(f"{base}/voice", json={"url": f"{remote}/missing.mp3"}, headers=admin_headers)
    assert (missing.status_code, missing.get_json()["code"]) == (422, "MEDIA_DOWNLOAD_FAILED")

    nowhere = client.get("/api/sessions/no-such-session/media/convert", headers=admin_headers)
    assert (nowhere.status_code, nowhere.get_json()["code"]) == (404, "SESSION_NOT_FOUND")
    viewer_key = client.post(
        "/api/auth/api-keys", json={"name": "viewer-key", "role": "viewer"}, headers=admin_headers
    ).get_json()["apiKey"]
    viewer = {"X-API-Key": viewer_key}
    assert client.get(base, headers=viewer).get_json() == {"available": True}
    refused = client.post(f"{base}/voice", json={"base64": _b64(mp3_tone())}, headers=viewer)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "FORBIDDEN")


def test_with_conversion_off_it_is_unavailable_and_a_voice_note_is_sent_as_given(
    make_settings: Any, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    settings = make_settings(media_conversion_enabled=False)
    client = create_app(settings).test_client()
    session_id = client.post("/api/sessions", json={"name": "plain"}, headers=admin_headers).get_json()["id"]
    SessionRepository(redis_conn, Keys(settings.redis_prefix)).update(session_id, status=SessionStatus.READY)
    base = f"/api/sessions/{session_id}/media/convert"
    assert client.get(base, headers=admin_headers).get_json() == {"available": False}
    off = client.post(f"{base}/voice", json={"base64": _b64(mp3_tone())}, headers=admin_headers)
    assert (off.status_code, off.get_json()["code"]) == (503, "MEDIA_CONVERSION_UNAVAILABLE")

    sent = _send(client, admin_headers, session_id, "send-audio", mp3_tone(), "audio/mpeg", ptt=True)
    assert sent.status_code == 201
    assert _stored(settings, client, admin_headers, session_id, sent.get_json()["messageId"]) == (
        mp3_tone(),
        "audio/mpeg",
    )


def test_a_bad_ffmpeg_path_makes_conversion_unavailable(
    make_settings: Any, admin_headers: dict[str, str], tmp_path: Any
) -> None:
    not_ffmpeg = tmp_path / "ffmpeg"
    not_ffmpeg.write_text("#!/bin/sh\nexit 1\n")
    not_ffmpeg.chmod(0o755)
    client = create_app(
        make_settings(media_conversion_enabled=True, ffmpeg_path=str(not_ffmpeg))
    ).test_client()
    created = client.post("/api/sessions", json={"name": "no-ffmpeg"}, headers=admin_headers)
    session_id = created.get_json()["id"]
    assert client.get(f"/api/sessions/{session_id}/media/convert", headers=admin_headers).get_json() == {
        "available": False
    }


def _send(
    client: FlaskClient,
    headers: dict[str, str],
    session_id: str,
    route: str,
    data: bytes,
    mimetype: str,
    **extra: Any,
) -> Any:
    body = {"chatId": BOB, "base64": _b64(data), "mimetype": mimetype, **extra}
    return client.post(f"/api/sessions/{session_id}/messages/{route}", json=body, headers=headers)


def _stored(
    settings: Settings, client: FlaskClient, headers: dict[str, str], session_id: str, message_id: str
) -> tuple[bytes, str]:
    record = client.get(f"/api/sessions/{session_id}/messages/{BOB}/{message_id}", headers=headers).get_json()
    return build_storage(settings).get(record["mediaPath"]), record["mediaMimetype"]


def test_a_voice_note_and_a_sticker_are_converted_before_they_are_stored_and_sent(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, settings: Settings
) -> None:
    voice = _send(
        client, admin_headers, session_id, "send-audio", mp3_tone(), "audio/mpeg", ptt=True, filename="hi.mp3"
    )
    assert voice.status_code == 201, voice.get_json()
    data, mimetype = _stored(settings, client, admin_headers, session_id, voice.get_json()["messageId"])
    assert (is_ogg_opus(data), mimetype) == (True, "audio/ogg; codecs=opus")

    plain = _send(client, admin_headers, session_id, "send-audio", mp3_tone(), "audio/mpeg")
    assert (
        _stored(settings, client, admin_headers, session_id, plain.get_json()["messageId"])[0] == mp3_tone()
    )
    opus = _send(client, admin_headers, session_id, "send-audio", data, "audio/ogg", ptt=True)
    assert _stored(settings, client, admin_headers, session_id, opus.get_json()["messageId"])[0] == data

    sticker = _send(client, admin_headers, session_id, "send-sticker", png(300, 120), "image/png")
    assert sticker.status_code == 201
    webp, mimetype = _stored(settings, client, admin_headers, session_id, sticker.get_json()["messageId"])
    assert (webp_size(webp), mimetype) == ((512, 512), "image/webp")
    assert len(session_queue(client.application.extensions["openwa"].redis, session_id).jobs) == 4


@pytest.mark.parametrize(
    ("route", "data", "mimetype", "extra"),
    [
        ("send-audio", b"ID3" + b"\x00 broken mp3 " * 40, "audio/mpeg", {"ptt": True}),
        ("send-sticker", png(64, 64)[:60], "image/png", {}),
        ("send-sticker", b"\xff\xd8\xff\xe0 not really a jpeg" * 5, "image/jpeg", {}),
    ],
)
def test_media_that_cannot_be_converted_is_422_and_nothing_is_sent(
    client: FlaskClient,
    admin_headers: dict[str, str],
    session_id: str,
    redis_conn: Redis,
    route: str,
    data: bytes,
    mimetype: str,
    extra: dict[str, Any],
) -> None:
    refused = _send(client, admin_headers, session_id, route, data, mimetype, **extra)
    assert (refused.status_code, refused.get_json()["code"]) == (422, "MEDIA_CONVERSION_FAILED")
    assert session_queue(redis_conn, session_id).jobs == []
    listed = client.get(f"/api/sessions/{session_id}/messages", headers=admin_headers).get_json()
    assert listed["total"] == 0


def test_a_conversion_waits_for_a_free_slot_and_gives_up_at_the_timeout(
    make_settings: Any, admin_headers: dict[str, str]
) -> None:
    # One slot per process, held here as a conversion in another request would hold it.
    settings = make_settings(
        media_conversion_enabled=True, media_conversion_concurrency=1, media_conversion_timeout_ms=300
    )
    client = create_app(settings).test_client()
    created = client.post("/api/sessions", json={"name": "busy"}, headers=admin_headers)
    url = f"/api/sessions/{created.get_json()['id']}/media/convert/voice"
    slot = conversion_slots(1)
    assert slot.acquire(timeout=5)
    try:
        busy = client.post(url, json={"base64": _b64(mp3_tone())}, headers=admin_headers)
    finally:
        slot.release()
    assert (busy.status_code, busy.get_json()["code"]) == (503, "MEDIA_CONVERSION_BUSY")
    assert client.post(url, json={"base64": _b64(mp3_tone())}, headers=admin_headers).status_code == 200


def test_a_conversion_over_its_time_or_output_cap_is_422(
    make_settings: Any, admin_headers: dict[str, str]
) -> None:
    slow = create_app(
        make_settings(media_conversion_enabled=True, media_conversion_timeout_ms=100)
    ).test_client()
    created = slow.post("/api/sessions", json={"name": "slow"}, headers=admin_headers)
    long_clip = {"base64": _b64(mp3_tone(30.0))}
    url = f"/api/sessions/{created.get_json()['id']}/media/convert/video"
    timed_out = slow.post(url, json={"base64": _b64(avi_clip(30.0))}, headers=admin_headers)
    assert (timed_out.status_code, timed_out.get_json()["code"]) == (422, "MEDIA_CONVERSION_FAILED")
    assert "timeoutMs" in timed_out.get_json()["details"]

    small = create_app(
        make_settings(media_conversion_enabled=True, media_conversion_max_output_bytes=2048)
    ).test_client()
    voice = f"/api/sessions/{created.get_json()['id']}/media/convert/voice"
    too_big = small.post(voice, json=long_clip, headers=admin_headers)
    assert (too_big.status_code, too_big.get_json()["code"]) == (422, "MEDIA_CONVERSION_FAILED")
    assert too_big.get_json()["details"] == {"maxBytes": 2048}
