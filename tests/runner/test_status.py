"""Stories (WhatsApp "Status") end to end (issue #17): the OpenWA SDK's `status` resource through the API, a
real runner, Chromium, the sandbox and webhook workers.

Alice's account is the session; Bob and Carol are phones. What Alice posts is checked where her contacts see
it (the phones' Status tabs, through the sandbox's control API); what Bob and Carol post is checked in the
session's story store, its media in storage, and in the webhooks: `status.received` reaches only a webhook
that asked for it by name (upstream's opt-in). Bad input is refused with a code and changes nothing.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

import pytest
from openwa import OpenWAClient
from openwa.types import StatusMediaInput

from tests.integration.webhooks.conftest import Receiver
from tests.runner.conftest import Stack, wait_for
from tests.runner.test_account_surfaces import refused
from tests.runner.test_messaging import ALICE, BOB, CAROL, PDF, PNG, Linked, link_alice

pytestmark = pytest.mark.e2e

# Containers the gateway sniffs as video/mp4 and audio/ogg (an MP4 `ftyp` box; an Ogg page holding Opus).
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32
OGG = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x02" + b"\x00" * 30


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def linked(stack: Stack, receiver: Receiver) -> Iterator[Linked]:
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-status")
    stack.start_worker("worker-status")  # webhook deliveries
    yield link_alice(stack, "alice-status")
    stack.stop_runners()


def seen_by(linked: Linked, number: str) -> list[dict[str, Any]]:
    """The live stories phone `number` sees (everyone's but its own)."""
    found: list[dict[str, Any]] = linked.stack.control("GET", f"/phones/{number}/statuses")
    return found


def alices(linked: Linked, number: str) -> list[dict[str, Any]]:
    return [story for story in seen_by(linked, number) if story["from"] == f"{ALICE}@c.us"]


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_a_text_story_reaches_her_contacts_and_deleting_takes_it_back(linked: Linked) -> None:
    api, sid = linked.client.status, linked.session_id
    before = time.time()
    posted = api.send_text(sid, {"text": "Back at 3 pm", "backgroundColor": "#25D366", "font": 1})
    assert before - 1 <= _seconds(posted["timestamp"]) <= time.time() + 1
    assert _seconds(posted["expiresAt"]) - _seconds(posted["timestamp"]) == 24 * 3600
    assert posted["statusId"].startswith("true_status@broadcast_")

    for number in (BOB, CAROL):
        [story] = wait_for(partial(alices, linked, number), 10, f"Alice's story on {number}'s phone")
        assert (story["type"], story["body"]) == ("chat", "Back at 3 pm")
        # wa-js sends the colour as ARGB (assertColor: an opaque alpha) and a font in 0-5.
        assert (story["backgroundColor"], story["font"]) == (0xFF25D366, 1)

    api.delete(sid, posted["statusId"])
    assert alices(linked, BOB) == alices(linked, CAROL) == []
    again = refused(lambda: api.delete(sid, posted["statusId"]))  # wa-js: error_on_remove_status
    assert (again.status, again.code) == (404, "STATUS_NOT_FOUND")


def test_image_video_and_voice_stories_reach_her_contacts_with_their_bytes(linked: Linked) -> None:
    api, sid = linked.client.status, linked.session_id
    image = api.send_image(
        sid, {"image": {"base64": b64(PNG), "mimetype": "image/png"}, "caption": "new sign"}
    )
    video = api.send_video(sid, {"video": {"base64": b64(MP4), "mimetype": "video/mp4"}})
    voice = api.send_voice(sid, {"audio": {"base64": b64(OGG), "mimetype": "audio/ogg; codecs=opus"}})
    assert len({image["statusId"], video["statusId"], voice["statusId"]}) == 3

    stories = wait_for(
        lambda: len(got := alices(linked, BOB)) == 3 and got, 15, "three stories on Bob's phone"
    )
    kinds = [
        (s["type"], s["caption"], s["media"]["mimetype"], base64.b64decode(s["media"]["base64"]))
        for s in stories
    ]
    assert kinds == [
        ("image", "new sign", "image/png", PNG),
        ("video", None, "video/mp4", MP4),
        ("ptt", None, "audio/ogg", OGG),  # a voice note, as WhatsApp plays a voice story
    ]
    for posted in (image, video, voice):
        api.delete(sid, posted["statusId"])
    assert alices(linked, BOB) == []


def _deliveries(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    bodies = [json.loads(r.body) for r in list(receiver.received) if r.path.endswith(path)]
    return [body for body in bodies if body.get("event") != "test"]


def test_contacts_stories_are_stored_with_their_media_and_announced_only_where_asked_for(
    linked: Linked, receiver: Receiver
) -> None:
    api, sid = linked.client.status, linked.session_id
    base = receiver.url
    linked.client.webhooks.create(sid, {"url": base + "?stories", "events": ["status.received"]})
    linked.client.webhooks.create(sid, {"url": base + "?default"})  # upstream's default: message.received
    media = {"base64": b64(PNG), "mimetype": "image/png"}
    photo = linked.stack.control(
        "POST", f"/phones/{BOB}/status", json={"media": media, "caption": "the view"}
    )
    look = {"text": "out for lunch", "backgroundColor": 0xFF336699, "font": 2}
    words = linked.stack.control("POST", f"/phones/{CAROL}/status", json=look)
    # A marker every webhook here takes: once the default hook has it, the stories were dispatched before.
    linked.stack.control("POST", f"/phones/{BOB}/messages", json={"to": ALICE, "text": "marker"})

    announced = wait_for(
        lambda: len(got := _deliveries(receiver, "?stories")) == 2 and got, 20, "both stories announced"
    )
    wait_for(lambda: _deliveries(receiver, "?default"), 20, "the marker on the default webhook")
    assert [d["event"] for d in _deliveries(receiver, "?default")] == ["message.received"]
    by_poster = {d["data"]["contact"]["id"]: d["data"] for d in announced}
    bobs, carols = by_poster[f"{BOB}@c.us"], by_poster[f"{CAROL}@c.us"]
    assert (bobs["type"], bobs["caption"], bobs["hasMedia"], bobs["mediaOmitted"]) == (
        "image",
        "the view",
        True,
        False,
    )
    assert (carols["type"], carols["caption"], carols["hasMedia"]) == ("text", "out for lunch", False)
    assert (carols["backgroundColor"], carols["font"]) == ("#336699", 2)  # WhatsApp's ARGB as OpenWA's hex
    assert bobs["statusId"].endswith(f"_{photo['statusId']}_{BOB}@c.us")
    assert carols["statusId"].endswith(f"_{words['statusId']}_{CAROL}@c.us")
    assert bobs["expiresAt"] - bobs["postedAt"] == 24 * 3600 * 1000

    stored = sorted(api.list(sid)["statuses"], key=lambda story: story["contact"]["id"])
    assert [s["id"] for s in stored] == [bobs["statusId"], carols["statusId"]]
    assert stored[0]["contact"]["pushName"] == "Bob"
    assert (stored[1]["backgroundColor"], stored[1]["font"], stored[1]["caption"]) == (
        "#336699",
        2,
        "out for lunch",
    )
    assert _seconds(stored[0]["expiresAt"]) - _seconds(stored[0]["timestamp"]) == 24 * 3600
    assert [s["id"] for s in api.from_contact(sid, f"{CAROL}@c.us")["statuses"]] == [carols["statusId"]]
    assert api.from_contact(sid, f"{ALICE}@c.us") == {"statuses": []}
    assert api.media(sid, bobs["statusId"]) == {"data": PNG, "contentType": "image/png"}
    no_media = refused(lambda: api.media(sid, carols["statusId"]))
    assert (no_media.status, no_media.code) == (404, "STATUS_MEDIA_NOT_FOUND")
    # Someone else's story is not Alice's to delete (wa-js: error_on_remove_status).
    not_hers = refused(lambda: api.delete(sid, bobs["statusId"]))
    assert (not_hers.status, not_hers.code) == (404, "STATUS_NOT_FOUND")
    assert len(api.list(sid)["statuses"]) == 2


def test_bad_story_input_is_refused_with_a_code_and_changes_nothing(linked: Linked) -> None:
    api, sid, client = linked.client.status, linked.session_id, linked.client
    stored = api.list(sid)
    seen = (alices(linked, BOB), alices(linked, CAROL))
    png: StatusMediaInput = {"base64": b64(PNG), "mimetype": "image/png"}
    bad_bodies = [
        lambda: api.send_text(sid, {"text": ""}),
        lambda: api.send_text(sid, {"text": "x" * 701}),
        lambda: api.send_text(sid, {"text": "hi", "font": 3}),  # type: ignore[typeddict-item]
        lambda: api.send_text(sid, {"text": "hi", "backgroundColor": "green"}),
        lambda: api.send_text(sid, {"text": "hi", "sticker": True}),  # type: ignore[typeddict-unknown-key]
        lambda: api.send_image(sid, {}),  # type: ignore[typeddict-item]
        lambda: api.send_image(sid, {"image": {"url": "http://127.0.0.1/a.png", **png}}),
        lambda: api.send_video(sid, {"video": {}}),  # neither url nor base64
        lambda: api.send_voice(sid, {"audio": png, "caption": "no captions on voice"}),  # type: ignore[typeddict-unknown-key]
    ]
    assert [(e.status, e.code) for e in map(refused, bad_bodies)] == [(400, "VALIDATION_ERROR")] * len(
        bad_bodies
    )
    wrong_kind = [
        lambda: api.send_image(sid, {"image": {"base64": b64(PDF), "mimetype": "image/png"}}),
        lambda: api.send_video(sid, {"video": png}),
        lambda: api.send_voice(sid, {"audio": png}),
    ]
    assert [(e.status, e.code) for e in map(refused, wrong_kind)] == [(400, "INVALID_MEDIA")] * 3
    bad_ids = [
        lambda: api.from_contact(sid, "not-a-contact"),
        lambda: api.delete(sid, "false_15550002222@c.us_3EB0AAAAAAAAAAAAAAAA"),  # a chat message, not a story
        lambda: api.media(sid, "junk"),
    ]
    assert [(e.status, e.code) for e in map(refused, bad_ids)] == [(400, "VALIDATION_ERROR")] * 3
    unknown = refused(lambda: api.delete(sid, f"true_status@broadcast_3EB0ABCDEF0123456789_{ALICE}@c.us"))
    expired = refused(lambda: api.media(sid, f"false_status@broadcast_3EB0ABCDEF0123456789_{BOB}@c.us"))
    assert [(e.status, e.code) for e in (unknown, expired)] == [(404, "STATUS_NOT_FOUND")] * 2
    # A static name where the id goes, with another method.
    wrong_method = linked.http().get(f"/api/sessions/{sid}/status/send-text")
    assert wrong_method.status_code == 405

    missing = refused(lambda: api.send_text("no-such-session", {"text": "hi"}))
    assert (missing.status, missing.code) == (404, "SESSION_NOT_FOUND")
    idle = client.sessions.create({"name": "alice-idle"})["id"]
    not_ready = refused(lambda: api.send_text(idle, {"text": "hi"}))
    assert (not_ready.status, not_ready.code) == (409, "SESSION_NOT_READY")
    assert refused(lambda: api.list("no-such-session")).code == "SESSION_NOT_FOUND"

    with linked.http() as http:
        created = http.post("/api/auth/api-keys", json={"name": "story-viewer", "role": "viewer"})
    as_viewer = OpenWAClient(linked.stack.api_url, created.json()["apiKey"], timeout=30.0).status
    assert refused(lambda: as_viewer.send_text(sid, {"text": "hi"})).status == 403
    assert ids(as_viewer.list(sid)) == ids(stored)  # reading is any key's

    assert ids(api.list(sid)) == ids(stored)
    assert (alices(linked, BOB), alices(linked, CAROL)) == seen


def ids(answer: dict[str, Any]) -> list[str]:
    return sorted(story["id"] for story in answer["statuses"])
