"""Business labels, WhatsApp Channels and the Baileys-only catalog end to end (issue #17): the OpenWA SDK's
`labels`, `channels`, `catalog` and `messages.click_button` through the API, a real runner, Chromium and the
sandbox.

Alice's account is the session, and a WhatsApp Business one; Bob and Carol are phones (Dave's personal
account is a second session, for upstream's answer to label writes). One linked session serves the whole
module and the stories run in order; every change is checked where the other side sees it (Alice's business
app's labels, a channel's followers and posts on the network) and bad input is refused with a code and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.runner.conftest import Stack
from tests.runner.test_account_surfaces import refused
from tests.runner.test_messaging import ALICE, BOB, CAROL, Linked, link_alice
from tests.runner.test_session_lifecycle import raw_qr, wait_status

pytestmark = pytest.mark.e2e

DAVE = "15550004444"
BOB_CHAT, CAROL_CHAT = f"{BOB}@c.us", f"{CAROL}@c.us"
NOWHERE_CHANNEL = "120363999999999999@newsletter"


@pytest.fixture(scope="module")
def linked(stack: Stack) -> Iterator[Linked]:
    stack.reset()
    stack.control("POST", "/phones", json={"number": ALICE, "name": "Alice", "business": True})
    for number, name in ((BOB, "Bob"), (CAROL, "Carol"), (DAVE, "Dave")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-business")
    linked = link_alice(stack, "alice-business")
    for number in (BOB, CAROL):  # Alice has a chat with each of them
        stack.control("POST", f"/phones/{number}/messages", json={"to": f"{ALICE}@c.us", "text": "hi"})
    yield linked
    stack.stop_runners()


def business_app(linked: Linked) -> dict[str, dict[str, Any]]:
    """Alice's labels as her phone's business app shows them: name -> {colorIndex, chats}."""
    labels = linked.stack.control("GET", f"/phones/{ALICE}/labels")
    return {
        label["name"]: {"colorIndex": label["colorIndex"], "chats": sorted(label["chats"])}
        for label in labels
    }


def test_labels_made_and_put_on_chats_are_what_the_business_app_shows(linked: Linked) -> None:
    api, sid = linked.client.labels, linked.session_id
    assert api.list(sid) == []
    created: dict[str, Any] = dict(api.upsert(sid, "1", {"name": "New customer", "color": 3}))
    assert created == {
        "success": True,
        "message": "Label created with id 1",
        "label": {"id": "1", "name": "New customer", "hexColor": "#dfaef0"},
    }
    vip: dict[str, Any] = dict(
        api.upsert(sid, "99", {"name": "VIP"})
    )  # no label 99: WhatsApp numbers the new one itself
    assert (vip["label"]["id"], vip["message"]) == ("2", "Label created with id 2")
    assert dict(api.get(sid, "2")) == vip["label"]

    for chat, label in ((BOB_CHAT, "1"), (BOB_CHAT, "2"), (CAROL_CHAT, "2")):
        assert api.add_to_chat(sid, chat, {"labelId": label})["success"] is True
    assert sorted(label["id"] for label in api.for_chat(sid, BOB_CHAT)) == ["1", "2"]
    assert sorted(chat["id"] for chat in api.chats(sid, "2")) == [BOB_CHAT, CAROL_CHAT]
    assert business_app(linked) == {
        "New customer": {"colorIndex": 3, "chats": [BOB_CHAT]},
        "VIP": {"colorIndex": 0, "chats": [BOB_CHAT, CAROL_CHAT]},
    }

    assert api.remove_from_chat(sid, BOB_CHAT, "2")["success"] is True
    renamed: dict[str, Any] = dict(api.upsert(sid, "1", {"name": "Lead", "color": 5}))
    assert (renamed["message"], renamed["label"]["name"]) == ("Label updated", "Lead")
    assert business_app(linked) == {
        "Lead": {"colorIndex": 5, "chats": [BOB_CHAT]},
        "VIP": {"colorIndex": 0, "chats": [CAROL_CHAT]},
    }

    assert api.delete(sid, "2")["success"] is True  # it comes off Carol's chat too
    assert business_app(linked) == {"Lead": {"colorIndex": 5, "chats": [BOB_CHAT]}}
    assert api.for_chat(sid, CAROL_CHAT) == []


def test_bad_label_input_is_refused_with_a_code_and_changes_nothing(linked: Linked) -> None:
    api, sid = linked.client.labels, linked.session_id
    before = business_app(linked)
    cases = {
        "unknown label": (lambda: api.get(sid, "77"), 404, "LABEL_NOT_FOUND"),
        "label id not digits": (lambda: api.get(sid, "abc"), 400, "VALIDATION_ERROR"),
        "colour off the palette": (
            lambda: api.upsert(sid, "1", {"name": "X", "color": 20}),
            400,
            "VALIDATION_ERROR",
        ),
        "blank name": (lambda: api.upsert(sid, "1", {"name": "  "}), 400, "VALIDATION_ERROR"),
        "colour as text": (
            lambda: api.upsert(sid, "1", {"name": "X", "color": "3"}),  # type: ignore[typeddict-item]
            400,
            "VALIDATION_ERROR",
        ),
        "unknown field": (
            lambda: api.upsert(sid, "1", {"name": "X", "hex": "#fff"}),  # type: ignore[typeddict-unknown-key]
            400,
            "VALIDATION_ERROR",
        ),
        "delete unknown": (lambda: api.delete(sid, "77"), 404, "LABEL_NOT_FOUND"),
        "chats of unknown": (lambda: api.chats(sid, "77"), 404, "LABEL_NOT_FOUND"),
        "put unknown label": (
            lambda: api.add_to_chat(sid, BOB_CHAT, {"labelId": "77"}),
            404,
            "LABEL_NOT_FOUND",
        ),
        "bad label id in body": (
            lambda: api.add_to_chat(sid, BOB_CHAT, {"labelId": "x"}),
            400,
            "VALIDATION_ERROR",
        ),
        "not a chat": (lambda: api.add_to_chat(sid, "nope", {"labelId": "1"}), 400, "VALIDATION_ERROR"),
        "not on WhatsApp": (
            lambda: api.add_to_chat(sid, "15559990000@c.us", {"labelId": "1"}),
            404,
            "CHAT_NOT_FOUND",
        ),
        "a channel": (
            lambda: api.add_to_chat(sid, NOWHERE_CHANNEL, {"labelId": "1"}),
            422,
            "CHAT_LABELS_UNSUPPORTED",
        ),
        "remove bad id": (lambda: api.remove_from_chat(sid, BOB_CHAT, "x1"), 400, "VALIDATION_ERROR"),
    }
    seen = {name: (refused(call).status, refused(call).code) for name, (call, _, _) in cases.items()}
    assert seen == {name: (status, code) for name, (_, status, code) in cases.items()}
    assert business_app(linked) == before
    assert api.for_chat(sid, NOWHERE_CHANNEL) == []  # a channel carries no labels


def test_a_personal_account_gets_upstreams_answer_to_label_writes(linked: Linked) -> None:
    """Dave's account is not a business one: reads find no labels, writes are upstream's 422."""
    stack, client = linked.stack, linked.client
    dave = client.sessions.create({"name": "dave-personal"})["id"]
    client.sessions.start(dave)
    wait_status(client, dave, "qr_ready")
    stack.control("POST", f"/phones/{DAVE}/link", json={"qr": raw_qr(stack, dave)})
    wait_status(client, dave, "ready")
    try:
        assert client.labels.list(dave) == []
        write = refused(lambda: client.labels.upsert(dave, "1", {"name": "Lead"}))
        put = refused(lambda: client.labels.add_to_chat(dave, BOB_CHAT, {"labelId": "1"}))
        assert [(e.status, e.code) for e in (write, put)] == [(422, "NOT_A_BUSINESS_ACCOUNT")] * 2
        assert write.body["message"] == "Chat labels require a WhatsApp Business account."
        assert stack.control("GET", f"/phones/{DAVE}/labels") == []
    finally:
        client.sessions.delete(dave)


def channel_seen_by(linked: Linked, code: str) -> dict[str, Any]:
    found: dict[str, Any] = linked.stack.control("GET", f"/channels/invite/{code}")
    return found


def test_a_phones_channel_is_followed_by_invite_read_muted_and_left(linked: Linked) -> None:
    api, sid, stack = linked.client.channels, linked.session_id, linked.stack
    made = stack.control(
        "POST", f"/phones/{BOB}/channels", json={"name": "Bob's deals", "description": "Weekly"}
    )
    for text in ("Monday: 10% off", "Friday: free delivery"):
        stack.control("POST", f"/channels/{made['id']}/posts", json={"number": BOB, "text": text})

    followed = api.subscribe(sid, {"inviteCode": f"https://whatsapp.com/channel/{made['inviteCode']}"})
    assert {k: followed[k] for k in ("id", "name", "description", "inviteCode")} == {
        "id": made["id"],
        "name": "Bob's deals",
        "description": "Weekly",
        "inviteCode": made["inviteCode"],
    }
    assert channel_seen_by(linked, made["inviteCode"])["followers"] == [f"{ALICE}@c.us"]
    assert [c["id"] for c in api.list(sid)] == [made["id"]]
    assert api.get(sid, made["id"])["subscriberCount"] == 1
    posts = api.messages(sid, made["id"])
    assert [(p["body"], p["hasMedia"]) for p in posts] == [
        ("Monday: 10% off", False),
        ("Friday: free delivery", False),
    ]
    assert [p["body"] for p in api.messages(sid, made["id"], {"limit": 1})] == ["Friday: free delivery"]

    assert api.mute(sid, made["id"], {"mute": True})["success"] is True
    assert stack.control("GET", f"/phones/{ALICE}/channels")[0]["muted"] is True
    assert api.mute(sid, made["id"], {"mute": False})["success"] is True
    assert stack.control("GET", f"/phones/{ALICE}/channels")[0]["muted"] is False

    assert api.unsubscribe(sid, made["id"])["success"] is True
    assert channel_seen_by(linked, made["inviteCode"])["followers"] == []
    assert api.list(sid) == []


def test_a_channel_the_session_creates_is_found_by_invite_and_deleted_for_everyone(linked: Linked) -> None:
    api, sid, stack = linked.client.channels, linked.session_id, linked.stack
    made = api.create(sid, {"name": "Alice's shop", "description": "New arrivals"})
    assert (made["name"], made["description"], made["subscriberCount"]) == ("Alice's shop", "New arrivals", 0)
    seen = channel_seen_by(linked, made["inviteCode"])
    assert (seen["id"], seen["owner"], seen["name"]) == (made["id"], f"{ALICE}@c.us", "Alice's shop")
    stack.control("POST", f"/phones/{CAROL}/channels/follow", json={"inviteCode": made["inviteCode"]})
    assert api.get(sid, made["id"])["subscriberCount"] == 1

    assert api.delete(sid, made["id"])["success"] is True
    gone = httpx.get(f"{stack.sandbox_url}/_sandbox/channels/invite/{made['inviteCode']}", timeout=10)
    assert gone.status_code == 404
    assert stack.control("GET", f"/phones/{CAROL}/channels") == []
    assert api.list(sid) == []


def test_bad_channel_input_is_refused_with_a_code_and_changes_nothing(linked: Linked) -> None:
    api, sid, stack = linked.client.channels, linked.session_id, linked.stack
    bobs = stack.control("POST", f"/phones/{BOB}/channels", json={"name": "Bob's news"})
    api.subscribe(sid, {"inviteCode": bobs["inviteCode"]})
    cases = {
        "unknown channel": (lambda: api.get(sid, NOWHERE_CHANNEL), 404, "CHANNEL_NOT_FOUND"),
        "not a channel id": (lambda: api.get(sid, "bobs-news"), 400, "VALIDATION_ERROR"),
        "messages of unknown": (lambda: api.messages(sid, NOWHERE_CHANNEL), 404, "CHANNEL_NOT_FOUND"),
        "limit 0": (lambda: api.messages(sid, bobs["id"], {"limit": 0}), 400, "VALIDATION_ERROR"),
        "unknown invite": (
            lambda: api.subscribe(sid, {"inviteCode": "0029VaNoSuchChannel000"}),
            404,
            "CHANNEL_INVITE_INVALID",
        ),
        "bad invite": (lambda: api.subscribe(sid, {"inviteCode": "no way"}), 400, "VALIDATION_ERROR"),
        "blank name": (lambda: api.create(sid, {"name": " "}), 400, "VALIDATION_ERROR"),
        "long description": (
            lambda: api.create(sid, {"name": "X", "description": "d" * 2049}),
            400,
            "VALIDATION_ERROR",
        ),
        "mute as text": (lambda: api.mute(sid, bobs["id"], {"mute": "yes"}), 400, "VALIDATION_ERROR"),  # type: ignore[typeddict-item]
        "mute unknown": (lambda: api.mute(sid, NOWHERE_CHANNEL, {"mute": True}), 404, "CHANNEL_NOT_FOUND"),
        "leave unknown": (lambda: api.unsubscribe(sid, NOWHERE_CHANNEL), 404, "CHANNEL_NOT_FOUND"),
        "delete what it only follows": (lambda: api.delete(sid, bobs["id"]), 403, "ENGINE_REFUSED"),
    }
    seen = {name: (refused(call).status, refused(call).code) for name, (call, _, _) in cases.items()}
    assert seen == {name: (status, code) for name, (_, status, code) in cases.items()}
    assert channel_seen_by(linked, bobs["inviteCode"])["followers"] == [
        f"{ALICE}@c.us"
    ]  # still there, followed
    assert [c["id"] for c in api.list(sid)] == [bobs["id"]]


UPSTREAM_501 = "Operation not supported by the active engine: {}"


def test_what_only_upstreams_baileys_engine_does_is_501_with_upstreams_body(linked: Linked) -> None:
    client, sid = linked.client, linked.session_id
    bobs = client.channels.list(sid)[0]["id"]
    cases = {
        "getCatalog": lambda: client.catalog.info(sid),
        "getProducts": lambda: client.catalog.products(sid, {"page": 1, "limit": 10}),
        "getProduct": lambda: client.catalog.product(sid, "7316048991811133"),
        "sendProduct": lambda: client.catalog.send_product(
            sid, {"chatId": BOB_CHAT, "productId": "73160489"}
        ),
        "clickButton": lambda: client.messages.click_button(
            sid,
            {"chatId": BOB_CHAT, "messageId": f"false_{BOB_CHAT}_3EB0C0FFEE0000000001", "buttonId": "yes"},
        ),
        "demoteChannelAdmin": lambda: client.channels.demote_admin(sid, bobs, {"userId": CAROL_CHAT}),
        "transferChannelOwnership": lambda: client.channels.transfer_ownership(
            sid, bobs, {"newOwnerId": CAROL_CHAT}
        ),
    }
    seen = {
        method: (refused(call).status, refused(call).code, refused(call).body["message"])
        for method, call in cases.items()
    }
    assert seen == {method: (501, "ENGINE_NOT_SUPPORTED", UPSTREAM_501.format(method)) for method in cases}

    with linked.http() as http:  # the body itself: upstream's fields, then ours
        body = http.get(f"/api/sessions/{sid}/catalog").json()
        bad = http.post(f"/api/sessions/{sid}/messages/send-product", json={"chatId": BOB_CHAT}).json()
    assert {k: body[k] for k in ("statusCode", "error", "message", "code")} == {
        "statusCode": 501,
        "error": "Not Implemented",
        "message": UPSTREAM_501.format("getCatalog"),
        "code": "ENGINE_NOT_SUPPORTED",
    }
    assert (bad["statusCode"], bad["code"]) == (400, "VALIDATION_ERROR")  # checked before the engine is asked


def test_bad_input_to_the_501_routes_and_the_remaining_reads_is_a_400_first(linked: Linked) -> None:
    client, sid = linked.client, linked.session_id
    bobs = client.channels.list(sid)[0]["id"]
    message = f"false_{BOB_CHAT}_3EB0C0FFEE0000000001"
    cases = {
        "page 0": lambda: client.catalog.products(sid, {"page": 0}),
        "limit 101": lambda: client.catalog.products(sid, {"limit": 101}),
        "no product id": lambda: client.catalog.send_product(sid, {"chatId": BOB_CHAT, "productId": ""}),
        "product to no chat": lambda: client.catalog.send_product(sid, {"chatId": "x", "productId": "1"}),
        "no button": lambda: client.messages.click_button(
            sid,
            {"chatId": BOB_CHAT, "messageId": message},  # type: ignore[typeddict-item]
        ),
        "demote nobody": lambda: client.channels.demote_admin(sid, bobs, {"userId": "someone"}),
        "transfer to nobody": lambda: client.channels.transfer_ownership(sid, bobs, {"newOwnerId": ""}),
        "demote in no channel": lambda: client.channels.demote_admin(sid, "x@g.us", {"userId": CAROL_CHAT}),
        "delete no channel id": lambda: client.channels.delete(sid, "news"),
        "labels of no chat": lambda: client.labels.for_chat(sid, "someone"),
    }
    seen = {name: (refused(call).status, refused(call).code) for name, call in cases.items()}
    assert seen == dict.fromkeys(cases, (400, "VALIDATION_ERROR"))
    assert [c["id"] for c in client.channels.list(sid)] == [bobs]


def test_the_engine_is_asked_only_once_the_session_is_ready(linked: Linked) -> None:
    client = linked.client
    idle = client.sessions.create({"name": "idle-business"})["id"]
    try:
        answers = [
            refused(call) for call in (lambda: client.catalog.info(idle), lambda: client.labels.list(idle))
        ]
        assert [(e.status, e.code) for e in answers] == [(409, "SESSION_NOT_READY")] * 2
    finally:
        client.sessions.delete(idle)
    missing = refused(lambda: client.channels.list("no-such-session"))
    assert (missing.status, missing.code) == (404, "SESSION_NOT_FOUND")
