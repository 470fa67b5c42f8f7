"""Media conversion end to end (issue 18): the OpenWA SDK's `media` resource and the sends WhatsApp could not
play otherwise, through the API, a real runner, Chromium and the sandbox, checked in the bytes Bob's phone
received: an MP3 sent as a voice note arrives as Ogg/Opus, a PNG sticker as a 512x512 WebP; a file that
cannot be converted is 422 with a code and nothing reaches the phone. Media is made in the test (ffmpeg's
`-f lavfi` tone and test pattern, Pillow)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from openwa.errors import OpenWAApiError

from tests.media_samples import avi_clip, is_ogg_opus, mp3_tone, mp4_streams, png, webp_size
from tests.runner.conftest import Stack
from tests.runner.test_messaging import ALICE, BOB, CAROL, Linked, link_alice

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack_settings() -> dict[str, str]:
    return {"MEDIA_CONVERSION_ENABLED": "true"}


@pytest.fixture(scope="module")
def linked(stack: Stack) -> Iterator[Linked]:
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-media")
    yield link_alice(stack, "alice-media")
    stack.stop_runners()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def refused(call: Any) -> OpenWAApiError:
    with pytest.raises(OpenWAApiError) as info:
        call()
    return info.value


def test_an_mp3_voice_note_arrives_as_ogg_opus_and_a_png_sticker_as_a_512_webp(linked: Linked) -> None:
    messages, sid = linked.client.messages, linked.session_id
    voice = messages.send_audio(
        sid, {"chatId": BOB, "base64": _b64(mp3_tone()), "mimetype": "audio/mpeg", "ptt": True}
    )
    sticker = messages.send_sticker(
        sid, {"chatId": BOB, "base64": _b64(png(320, 200)), "mimetype": "image/png"}
    )

    got_voice = linked.delivered(BOB, voice["messageId"])
    data = base64.b64decode(got_voice["media"]["base64"])
    assert got_voice["type"] == "ptt"
    assert (data[:4], b"OpusHead" in data[:128]) == (b"OggS", True)
    assert got_voice["media"]["mimetype"].startswith("audio/ogg")

    got_sticker = linked.delivered(BOB, sticker["messageId"])
    webp = base64.b64decode(got_sticker["media"]["base64"])
    assert (got_sticker["type"], webp[:4], webp[8:12]) == ("sticker", b"RIFF", b"WEBP")
    assert webp_size(webp) == (512, 512)
    assert linked.record(sticker["messageId"])["status"] in ("sent", "delivered", "read")


def test_media_that_cannot_be_converted_is_422_and_nothing_reaches_the_phone(linked: Linked) -> None:
    messages, sid = linked.client.messages, linked.session_id
    corrupt_audio = {
        "chatId": CAROL,
        "base64": _b64(b"ID3" + b"\x00 no frames " * 40),
        "mimetype": "audio/mpeg",
    }
    voice = refused(lambda: messages.send_audio(sid, {**corrupt_audio, "ptt": True}))
    assert (voice.status, voice.code) == (422, "MEDIA_CONVERSION_FAILED")
    sticker = refused(
        lambda: messages.send_sticker(
            sid, {"chatId": CAROL, "base64": _b64(png(64, 64)[:60]), "mimetype": "image/png"}
        )
    )
    assert (sticker.status, sticker.code) == (422, "MEDIA_CONVERSION_FAILED")

    marker = messages.send_text(sid, {"chatId": CAROL, "text": "after the refusals"})
    linked.delivered(CAROL, marker["messageId"])
    assert [m["body"] for m in linked.inbox(CAROL)] == ["after the refusals"]


def test_the_convert_routes_return_converted_bytes_and_refuse_bad_input(linked: Linked) -> None:
    media, sid = linked.client.media, linked.session_id
    assert media.conversion_status(sid) == {"available": True}

    voice = media.convert_voice(sid, base64=_b64(mp3_tone()))
    assert is_ogg_opus(base64.b64decode(voice["base64"]))
    assert (voice["mimetype"], voice["bytes"]) == (
        "audio/ogg; codecs=opus",
        len(base64.b64decode(voice["base64"])),
    )
    # The converted note goes straight into a send, as the SDK documents, and arrives unchanged.
    sent = linked.client.messages.send_audio(
        sid, {"chatId": BOB, "base64": voice["base64"], "mimetype": "audio/ogg", "ptt": True}
    )
    assert linked.delivered(BOB, sent["messageId"])["media"]["base64"] == voice["base64"]

    video = media.convert_video(sid, base64=_b64(avi_clip()))
    mp4 = base64.b64decode(video["base64"])
    assert (mp4[4:8], video["mimetype"]) == (b"ftyp", "video/mp4")
    assert "h264" in mp4_streams(mp4)

    answers = {
        "none": refused(lambda: media.convert_voice(sid)),
        "both": refused(lambda: media.convert_video(sid, url="http://127.0.0.1/x.mp4", base64="AAAA")),
        "not base64": refused(lambda: media.convert_voice(sid, base64="not base64!")),
        "not media": refused(lambda: media.convert_video(sid, base64=_b64(b"plain text, no video" * 10))),
        "no session": refused(lambda: media.convert_voice("no-such-session", base64=_b64(mp3_tone()))),
    }
    assert {name: (e.status, e.code) for name, e in answers.items()} == {
        "none": (400, "VALIDATION_ERROR"),
        "both": (400, "VALIDATION_ERROR"),
        "not base64": (400, "INVALID_MEDIA"),
        "not media": (422, "MEDIA_CONVERSION_FAILED"),
        "no session": (404, "SESSION_NOT_FOUND"),
    }
