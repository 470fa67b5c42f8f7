"""Chats, contacts and actions on existing messages, through the OpenWA SDK, a real runner and the sandbox.

Alice's account is the session; Bob and Carol are phones. Every action is checked where WhatsApp shows it:
in a phone's view of the message (reactions, body, revoked, starred, pin), a phone's presence log (typing),
or the chat list read back from the engine (archive, pin, mute, unread).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from openwa import OpenWAClient
from openwa.errors import OpenWAApiError

from tests.runner.conftest import Stack, wait_for
from tests.runner.test_messaging import ALICE, BOB, BOB_CHAT, CAROL, Linked, link_alice

pytestmark = pytest.mark.e2e

ALICE_CHAT, CAROL_CHAT = f"{ALICE}@c.us", f"{CAROL}@c.us"


@pytest.fixture(scope="module")
def linked(stack: Stack) -> Iterator[Linked]:
    """One linked session (Alice) for the whole module, with Bob and Carol on the network."""
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-chats")
    yield link_alice(stack, "alice-chats")
    stack.stop_runners()


def sent_to_bob(linked: Linked, text: str) -> str:
    """Alice sends `text` to Bob through the API; the message id, once Bob has it."""
    message_id: str = linked.client.messages.send_text(linked.session_id, {"chatId": BOB, "text": text})[
        "messageId"
    ]
    linked.delivered(BOB, message_id)
    wait_for(lambda: linked.record(message_id)["status"] != "pending", 10, "the send to finish")
    return message_id


def from_phone(linked: Linked, number: str, text: str) -> str:
    """Phone `number` sends `text` to Alice; the message id as Alice's session knows it."""
    sent = linked.stack.control("POST", f"/phones/{number}/messages", json={"to": ALICE_CHAT, "text": text})
    message_id = f"false_{number}@c.us_{sent['stanzaId']}"
    wait_for(lambda: _stored(linked, message_id), 10, f"{message_id} stored")
    return message_id


def _stored(linked: Linked, message_id: str) -> bool:
    with linked.http() as http:
        chat = message_id.split("_")[1]
        return http.get(f"/api/sessions/{linked.session_id}/messages/{chat}/{message_id}").status_code == 200


def own_view(linked: Linked, message_id: str) -> dict[str, Any]:
    """The message as Alice's own phone has it (`?all=1` includes what she sent)."""
    mine = linked.stack.control("GET", f"/phones/{ALICE}/messages", params={"all": "1"})
    key = message_id.rsplit("_", 1)[1]
    found: dict[str, Any] = next(m for m in mine if m["stanzaId"] == key)
    return found


def chat_row(client: OpenWAClient, session_id: str, chat_id: str) -> dict[str, Any]:
    rows = client.chats.list(session_id, {"limit": 100})
    return next(dict(row) for row in rows if row["id"] == chat_id)


def test_react_and_remove_shows_on_the_phone_and_in_the_stored_reactions(linked: Linked) -> None:
    sid, messages = linked.session_id, linked.client.messages
    message_id = sent_to_bob(linked, "react to me")
    assert messages.react(sid, {"chatId": BOB, "messageId": message_id, "emoji": "👍"}) == {"success": True}
    assert linked.delivered(BOB, message_id)["reactions"] == {ALICE: "👍"}
    linked.stack.control("POST", f"/phones/{BOB}/reactions", json={"messageId": message_id, "reaction": "❤"})

    def both() -> list[Any] | None:
        grouped = messages.reactions(sid, BOB_CHAT, message_id)
        return grouped if len(grouped) == 2 else None

    grouped = {g["emoji"]: [s["senderId"] for s in g["senders"]] for g in wait_for(both, 10, "2 reactions")}
    assert grouped == {"👍": [ALICE_CHAT], "❤": [BOB_CHAT]}

    messages.react(sid, {"chatId": BOB_CHAT, "messageId": message_id, "emoji": ""})
    assert linked.delivered(BOB, message_id)["reactions"] == {BOB: "❤"}
    assert [g["emoji"] for g in messages.reactions(sid, BOB_CHAT, message_id)] == ["❤"]


def test_edit_star_pin_and_delete_for_everyone_reach_whatsapp_and_the_record(linked: Linked) -> None:
    sid, messages = linked.session_id, linked.client.messages
    message_id = sent_to_bob(linked, "first draft")

    edited = messages.edit_message(sid, {"chatId": BOB, "messageId": message_id, "body": "final text"})
    assert edited["messageId"] == message_id
    assert abs(edited["timestamp"] - time.time()) < 60
    got = linked.delivered(BOB, message_id)
    assert (got["body"], got["edited"]) == ("final text", True)
    assert linked.record(message_id)["body"] == "final text"

    messages.star(sid, {"chatId": BOB, "messageId": message_id, "star": True})
    assert own_view(linked, message_id)["starred"] is True
    assert linked.record(message_id)["starred"] is True

    messages.pin(sid, {"chatId": BOB, "messageId": message_id, "durationSeconds": 604800})
    assert linked.delivered(BOB, message_id)["pinnedUntil"] > time.time() + 6 * 86400
    messages.unpin(sid, {"chatId": BOB, "messageId": message_id})
    assert linked.delivered(BOB, message_id)["pinnedUntil"] == 0

    assert messages.delete(sid, {"chatId": BOB, "messageId": message_id}) == {"success": True}
    got = linked.delivered(BOB, message_id)
    assert (got["type"], got["body"]) == ("revoked", "")
    record = linked.record(message_id)
    assert (record["type"], record["body"]) == ("revoked", "")


def test_history_is_read_live_from_whatsapp_in_the_incoming_message_shape(linked: Linked) -> None:
    mine = sent_to_bob(linked, "history: from Alice")
    theirs = from_phone(linked, BOB, "history: from Bob")
    history = linked.client.messages.history(linked.session_id, BOB, {"limit": 5})
    assert len(history) <= 5
    by_id = {m["id"]: m for m in history}
    assert [m["id"] for m in history][-2:] == [mine, theirs]  # oldest first, newest last
    assert (by_id[mine]["fromMe"], by_id[theirs]["fromMe"]) == (True, False)
    assert by_id[theirs]["body"] == "history: from Bob"
    assert (by_id[theirs]["from"], by_id[theirs]["kind"], by_id[theirs]["type"]) == (
        BOB_CHAT,
        "individual",
        "text",
    )


def test_chat_list_shows_unread_read_archive_pin_and_mute(linked: Linked) -> None:
    sid, chats = linked.session_id, linked.client.chats
    theirs = from_phone(linked, BOB, "are you there?")
    row = wait_for(
        lambda: (r := chat_row(linked.client, sid, BOB_CHAT))["unreadCount"] > 0 and r, 10, "unread"
    )
    assert (row["kind"], row["isGroup"], row["name"]) == ("individual", False, "Bob")
    assert row["lastMessage"] == "are you there?"

    assert chats.mark_read(sid, {"chatId": BOB, "messageIds": [theirs]}) == {"success": True}
    assert chat_row(linked.client, sid, BOB_CHAT)["unreadCount"] == 0
    bobs = linked.stack.control("GET", f"/phones/{BOB}/messages", params={"all": "1", "chat": ALICE_CHAT})
    assert next(m for m in bobs if m["id"].endswith(theirs.rsplit("_", 1)[1]))["ack"] == 3  # blue ticks

    chats.mark_unread(sid, {"chatId": BOB})
    assert chat_row(linked.client, sid, BOB_CHAT)["unreadCount"] != 0

    until = int(time.time() * 1000) + 3_600_000
    assert chats.archive(sid, {"chatId": BOB, "archive": True}) == {"success": True}
    assert chats.pin(sid, {"chatId": BOB, "pin": True}) == {"success": True}
    assert chats.mute(sid, {"chatId": BOB, "muteUntil": until}) == {"success": True}
    row = chat_row(linked.client, sid, BOB_CHAT)
    assert (row["archived"], row["pinned"], row["muted"]) == (True, True, True)
    assert abs(row["muteExpiration"] - until) < 1000

    chats.archive(sid, {"chatId": BOB, "archive": False})
    chats.pin(sid, {"chatId": BOB, "pin": False})
    chats.mute(sid, {"chatId": BOB, "muteUntil": None})
    row = chat_row(linked.client, sid, BOB_CHAT)
    assert (row["archived"], row["pinned"], row["muted"]) == (False, False, False)
    assert "muteExpiration" not in row


def test_typing_and_recording_show_in_the_phone_presence_log(linked: Linked) -> None:
    chats = linked.client.chats
    for state in ("typing", "recording", "paused"):
        assert chats.send_state(linked.session_id, {"chatId": BOB, "state": state}) == {"success": True}
    shown = linked.stack.control("GET", f"/phones/{BOB}/presence")
    assert [p["state"] for p in shown if p["from"] == ALICE_CHAT][-3:] == ["composing", "recording", "paused"]


def test_contacts_list_check_get_and_block(linked: Linked) -> None:
    sid, contacts = linked.session_id, linked.client.contacts
    from_phone(linked, BOB, "add me")  # a contact is someone Alice has a chat with
    listed = {c["id"]: c for c in contacts.list(sid, {"limit": 100})}
    assert listed[BOB_CHAT]["name"] == "Bob"
    assert listed[BOB_CHAT]["number"] == BOB
    assert contacts.check(sid, f"+{BOB}") == {"number": BOB, "exists": True, "whatsappId": BOB_CHAT}
    assert contacts.check(sid, "15559999999") == {
        "number": "15559999999",
        "exists": False,
        "whatsappId": None,
    }
    bob = contacts.get(sid, BOB_CHAT)
    assert (bob["id"], bob["pushName"], bob["isBlocked"]) == (BOB_CHAT, "Bob", False)
    assert contacts.profile_picture(sid, BOB) == {"url": None}

    assert contacts.block(sid, CAROL)["success"] is True
    assert CAROL_CHAT in contacts.list_blocked(sid)
    assert contacts.get(sid, CAROL_CHAT)["isBlocked"] is True
    assert CAROL_CHAT in linked.stack.control("GET", f"/phones/{ALICE}")["blocked"]
    assert contacts.unblock(sid, CAROL)["success"] is True
    assert CAROL_CHAT not in contacts.list_blocked(sid)


def test_clearing_and_deleting_a_chat_drops_its_stored_messages(linked: Linked) -> None:
    sid, chats = linked.session_id, linked.client.chats
    from_phone(linked, CAROL, "clear me")
    assert chats.clear_messages(sid, CAROL_CHAT) == {"success": True}
    assert linked.client.messages.list(sid, {"chatId": CAROL_CHAT})["total"] == 0
    assert linked.client.messages.history(sid, CAROL, {"limit": 10}) == []

    from_phone(linked, CAROL, "delete me")
    assert chats.delete(sid, {"chatId": CAROL}) == {"success": True}
    assert CAROL_CHAT not in [row["id"] for row in chats.list(sid, {"limit": 100})]
    assert linked.client.messages.list(sid, {"chatId": CAROL_CHAT})["total"] == 0


def test_actions_on_unknown_messages_are_404_and_refusals_are_403_or_501(linked: Linked) -> None:
    sid, messages = linked.session_id, linked.client.messages
    unknown = f"true_{BOB_CHAT}_3EB0AAAAAAAAAAAAAAAA"
    theirs = from_phone(linked, BOB, "not yours to edit")
    cases: list[tuple[Any, dict[str, Any], int, str]] = [
        (messages.react, {"chatId": BOB, "messageId": unknown, "emoji": "👍"}, 404, "MESSAGE_NOT_FOUND"),
        (messages.star, {"chatId": BOB, "messageId": unknown, "star": True}, 404, "MESSAGE_NOT_FOUND"),
        (messages.edit_message, {"chatId": BOB, "messageId": theirs, "body": "x"}, 403, "ENGINE_REFUSED"),
        (messages.delete, {"chatId": BOB, "messageId": theirs}, 403, "ENGINE_REFUSED"),
        (
            messages.vote_poll,
            {"chatId": BOB, "pollMessageId": theirs, "options": []},
            501,
            "ENGINE_NOT_SUPPORTED",
        ),
    ]
    for call, body, status, code in cases:
        with pytest.raises(OpenWAApiError) as caught:
            call(sid, body)
        assert (caught.value.status, caught.value.code) == (status, code), body
    with pytest.raises(OpenWAApiError) as caught:
        messages.reactions(sid, BOB_CHAT, unknown)
    assert (caught.value.status, caught.value.code) == (404, "MESSAGE_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "messages/react", {"chatId": "not-a-chat", "messageId": "x", "emoji": "👍"}, "chatId"),
        ("POST", "messages/react", {"chatId": BOB, "messageId": "3EB0ABC", "emoji": "👍"}, "messageId"),
        (
            "POST",
            "messages/star",
            {"chatId": CAROL, "messageId": f"true_{BOB_CHAT}_3EB0AB", "star": True},
            "messageId",
        ),
        (
            "POST",
            "messages/pin",
            {"chatId": BOB, "messageId": f"true_{BOB_CHAT}_3EB0AB", "durationSeconds": 60},
            "durationSeconds",
        ),
        ("POST", "chats/mute", {"chatId": BOB, "muteUntil": 1_700_000_000}, "muteUntil"),
        ("POST", "chats/typing", {"chatId": BOB, "state": "dancing"}, "state"),
        ("POST", "chats/archive", {"chatId": BOB, "archive": True, "colour": "red"}, "colour"),
        ("GET", "messages/not-a-chat/history", None, "chatId"),
        ("GET", f"messages/{BOB_CHAT}/history?limit=101", None, "limit"),
        ("DELETE", "chats/nope/messages", None, "chatId"),
        ("GET", "contacts/check/12ab", None, "number"),
    ],
)
def test_bad_inputs_are_400_naming_the_field(
    linked: Linked, method: str, path: str, body: dict[str, Any] | None, field: str
) -> None:
    with linked.http() as http:
        response = http.request(method, f"/api/sessions/{linked.session_id}/{path}", json=body)
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR"), response.text
    assert field in response.json()["details"]["fields"], response.text


def test_chats_of_a_session_that_is_not_ready_are_409(linked: Linked) -> None:
    other = linked.client.sessions.create({"name": "chats-not-started"})["id"]
    with linked.http() as http:
        listed = http.get(f"/api/sessions/{other}/chats")
        typing = http.post(f"/api/sessions/{other}/chats/typing", json={"chatId": BOB, "state": "typing"})
        missing = http.get("/api/sessions/no-such-session/contacts")
    assert (listed.status_code, listed.json()["code"]) == (409, "SESSION_NOT_READY")
    assert (typing.status_code, typing.json()["code"]) == (409, "SESSION_NOT_READY")
    assert (missing.status_code, missing.json()["code"]) == (404, "SESSION_NOT_FOUND")
