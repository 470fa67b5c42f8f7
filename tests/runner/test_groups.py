"""Groups end to end (issue #16): the OpenWA SDK's `groups` resource through the API, a real runner, Chromium
and the sandbox.

Alice's account is the session; Bob, Carol, Dave and Erin are phones. One linked session serves the whole
module and the stories build on one group ("Ops"), in order: every change is checked where WhatsApp shows it
(the network's view of the group, the phones' inboxes), and as the `group.*` events the session publishes
(the payloads its webhooks carry).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openwa.errors import OpenWAApiError

from runner.sandbox.ids import lid_of
from tests.runner.conftest import Stack, wait_for
from tests.runner.test_messaging import ALICE, BOB, CAROL, PNG, Linked, link_alice

pytestmark = pytest.mark.e2e

DAVE, ERIN, NOBODY = "15550004444", "15550005555", "15559999999"
JID = {n: f"{n}@c.us" for n in (ALICE, BOB, CAROL, DAVE, ERIN, NOBODY)}


@pytest.fixture(scope="module")
def linked(stack: Stack) -> Iterator[Linked]:
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (DAVE, "Dave"), (ERIN, "Erin")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-groups")
    yield link_alice(stack, "alice-groups")
    stack.stop_runners()


@pytest.fixture(scope="module")
def ops(linked: Linked) -> str:
    """The group the stories share, created by the session with Bob and Carol."""
    summary = linked.client.groups.create(
        linked.session_id, {"name": "Ops", "participants": [BOB, f"+{CAROL}"]}
    )
    assert summary["id"].endswith("@g.us")
    assert (summary["name"], summary["participantsCount"], summary["isAdmin"]) == ("Ops", 3, True)
    return summary["id"]


def network_view(linked: Linked, gid: str) -> dict[str, Any]:
    view: dict[str, Any] = linked.stack.control("GET", f"/groups/{gid}")
    return view


def roles(linked: Linked, gid: str) -> dict[str, str]:
    return {
        p["id"]: "superadmin" if p["isSuperAdmin"] else "admin" if p["isAdmin"] else "member"
        for p in network_view(linked, gid)["participants"]
    }


def group_events(linked: Linked, gid: str, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The session's first `count` group events about `gid`, once there are that many."""

    def probe() -> list[tuple[str, dict[str, Any]]]:
        found = [(n, d) for n, d in linked.stack.events(linked.session_id) if n.startswith("group.")]
        return [(n, d) for n, d in found if d.get("groupId") == gid]

    return wait_for(
        lambda: (got := probe()) and len(got) >= count and got[:count], 15, f"{count} group events"
    )


def in_inbox(linked: Linked, number: str, message_id: str) -> dict[str, Any]:
    """Our message as phone `number` received it (in a group its key ends with our participant)."""
    stanza = message_id.rsplit("_", 1)[1]

    def probe() -> dict[str, Any] | None:
        return next((m for m in linked.inbox(number) if m["stanzaId"] == stanza), None)

    found: dict[str, Any] = wait_for(probe, 20, f"{message_id} in {number}'s inbox")
    return found


def refused(call: Any) -> OpenWAApiError:
    with pytest.raises(OpenWAApiError) as info:
        call()
    return info.value


def test_a_group_created_with_members_is_theirs_too_and_listed_and_described(
    linked: Linked, ops: str
) -> None:
    sid, api = linked.session_id, linked.client.groups
    assert roles(linked, ops) == {JID[ALICE]: "superadmin", JID[BOB]: "member", JID[CAROL]: "member"}
    assert {"id": ops, "name": "Ops"}.items() <= next(g for g in api.list(sid) if g["id"] == ops).items()
    info = api.get(sid, ops)
    assert (info["id"], info["name"], info["owner"], info["isAnnounce"]) == (ops, "Ops", JID[ALICE], False)
    assert {p["id"]: (p["number"], p["isAdmin"], p["isSuperAdmin"]) for p in info["participants"]} == {
        JID[ALICE]: (ALICE, True, True),
        JID[BOB]: (BOB, False, False),
        JID[CAROL]: (CAROL, False, False),
    }
    [(name, created)] = group_events(linked, ops, 1)
    assert name == "group.join"
    assert {JID[BOB], JID[CAROL]} <= set(created["participantIds"])


def test_participants_change_one_by_one_with_a_result_for_each(linked: Linked, ops: str) -> None:
    sid, api = linked.session_id, linked.client.groups
    added = api.add_participants(sid, ops, [DAVE, NOBODY, BOB])
    assert added["success"] is True
    assert [(r["id"], r["success"], r["status"]) for r in added["results"]] == [
        (JID[DAVE], True, 200),
        (JID[NOBODY], False, 404),
        (JID[BOB], False, 409),
    ]
    promoted = api.promote_participants(sid, ops, [BOB, ERIN])
    assert [(r["id"], r["status"]) for r in promoted["results"]] == [(JID[BOB], 200), (JID[ERIN], 404)]
    assert roles(linked, ops)[JID[BOB]] == "admin"
    assert api.demote_participants(sid, ops, [BOB])["results"][0]["success"] is True
    assert api.remove_participants(sid, ops, [DAVE])["success"] is True
    assert roles(linked, ops) == {JID[ALICE]: "superadmin", JID[BOB]: "member", JID[CAROL]: "member"}
    events = group_events(linked, ops, 5)[1:]
    assert [(n, d["participantIds"], d.get("changes")) for n, d in events] == [
        ("group.join", [JID[DAVE]], None),
        ("group.update", [JID[BOB]], {"role": "admin"}),
        ("group.update", [JID[BOB]], {"role": "member"}),
        ("group.leave", [JID[DAVE]], None),
    ]
    assert all(d["actorId"] == JID[ALICE] for _, d in events)


def test_text_and_media_reach_every_member_and_a_members_message_is_recorded_with_its_author(
    linked: Linked, ops: str
) -> None:
    sid = linked.session_id
    hello = {"chatId": ops, "text": "hello team @Bob", "mentions": [BOB]}
    text = linked.client.messages.send_text(sid, hello)["messageId"]  # type: ignore[arg-type]
    image = {
        "chatId": ops,
        "base64": base64.b64encode(PNG).decode(),
        "mimetype": "image/png",
        "caption": "dot",
    }
    photo = linked.client.messages.send_image(sid, image)["messageId"]
    for number in (BOB, CAROL):
        received_text = in_inbox(linked, number, text)
        assert (received_text["body"], received_text["mentions"]) == ("hello team @Bob", [JID[BOB]])
        assert in_inbox(linked, number, photo)["media"]["base64"] == base64.b64encode(PNG).decode()
    # Acks in a group: delivered once every member has it, read once every member read it.
    wait_for(lambda: linked.record(text)["status"] == "delivered", 15, "the group message delivered")
    linked.stack.control("POST", f"/phones/{BOB}/read", json={"chat": ops})
    assert linked.record(text)["status"] == "delivered"  # Carol has not read it yet
    linked.stack.control("POST", f"/phones/{CAROL}/read", json={"chat": ops})
    wait_for(lambda: linked.record(text)["status"] == "read", 15, "the group message read by everyone")
    answer = {"to": ops, "text": "on it @Alice", "mentions": [JID[ALICE]]}
    sent = linked.stack.control("POST", f"/phones/{BOB}/messages", json=answer)

    def received() -> dict[str, Any] | None:
        events = linked.stack.events(sid)
        found = [d for n, d in events if n == "message.received" and d["body"] == "on it @Alice"]
        return found[0] if found else None

    event = wait_for(received, 15, "Bob's message")
    assert (event["chatId"], event["author"], event["isGroup"]) == (ops, JID[BOB], True)
    assert event["authorLid"] == lid_of(BOB)  # who WhatsApp said it was, by LID
    assert event["mentionedIds"] == [JID[ALICE]]
    assert sent["stanzaId"] in event["id"]
    record = linked.record(event["id"])
    assert (record["chatId"], record["from"], record["isGroup"]) == (ops, JID[BOB], True)


def test_subject_description_settings_and_picture_change_for_everyone(linked: Linked, ops: str) -> None:
    sid, api = linked.session_id, linked.client.groups
    assert api.set_subject(sid, ops, "Ops team")["success"] is True
    assert api.set_description(sid, ops, "Alerts only")["success"] is True
    settings = {"announce": True, "locked": True, "ephemeralSeconds": 86_400}
    assert api.update_group_settings(sid, ops, settings)["success"] is True  # type: ignore[arg-type]
    assert api.get_group_settings(sid, ops) == {**settings, "memberAddMode": "admins"}
    assert refused(lambda: api.update_group_settings(sid, ops, {"memberAddMode": "all"})).status == 501
    view = network_view(linked, ops)
    assert (view["subject"], view["desc"], view["announce"], view["restrict"]) == (
        "Ops team",
        "Alerts only",
        True,
        True,
    )
    assert (view["ephemeralDuration"], view["memberAddMode"]) == (86_400, "admin_add")
    # An announce group: Bob's message fails on his phone and reaches nobody.
    failed = linked.stack.control("POST", f"/phones/{BOB}/messages", json={"to": ops, "text": "me too"})
    assert failed["ack"] == -1

    assert api.set_picture(sid, ops, {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png"})[
        "success"
    ]
    url = api.get_picture(sid, ops)["url"]
    picture = httpx.get(url, timeout=10)
    assert (picture.status_code, picture.content[:2], network_view(linked, ops)["picture"] is not None) == (
        200,
        b"\xff\xd8",  # a JPEG, as wa-js's setIcon sends it
        True,
    )
    assert api.delete_picture(sid, ops)["success"] is True
    assert api.get_picture(sid, ops) == {"url": None}
    assert "me too" not in [m["body"] for m in linked.inbox(CAROL)]
    changes = [d["changes"] for _, d in group_events(linked, ops, 11)[5:]]
    assert changes == [
        {"subject": "Ops team"},
        {"description": "Alerts only"},
        {"announce": True},
        {"locked": True},
        {"picture": True},
        {"picture": False},
    ]
    api.update_group_settings(sid, ops, {"announce": False, "locked": False, "ephemeralSeconds": 0})


def test_an_invite_code_lets_another_phone_in_until_it_is_revoked(linked: Linked, ops: str) -> None:
    sid, api = linked.session_id, linked.client.groups
    invite = api.invite_code(sid, ops)
    assert invite["inviteLink"] == f"https://chat.whatsapp.com/{invite['inviteCode']}"
    preview = api.join_info(sid, invite["inviteLink"])
    assert (preview["id"], preview["name"], preview["participantCount"]) == (ops, "Ops team", 3)
    linked.stack.control("POST", "/groups/join", json={"number": ERIN, "code": invite["inviteCode"]})
    assert roles(linked, ops)[JID[ERIN]] == "member"
    revoked = api.revoke_invite_code(sid, ops)
    assert revoked["inviteCode"] != invite["inviteCode"]
    old = {"number": DAVE, "code": invite["inviteCode"]}
    assert httpx.post(f"{linked.stack.sandbox_url}/_sandbox/groups/join", json=old).status_code == 404
    assert (error := refused(lambda: api.join_info(sid, invite["inviteCode"]))).status == 404
    assert error.code == "INVITE_CODE_INVALID"
    assert JID[DAVE] not in roles(linked, ops)
    joined = [d for n, d in group_events(linked, ops, 14) if n == "group.join"][-1]
    assert (joined["actorId"], joined["participantIds"]) == (JID[ERIN], [JID[ERIN]])


def test_a_membership_request_is_listed_then_approved_and_another_rejected(linked: Linked, ops: str) -> None:
    sid, api, stack = linked.session_id, linked.client.groups, linked.stack
    stack.control("POST", f"/groups/{ops}/join-requests", json={"number": DAVE})
    [request] = wait_for(lambda: api.get_membership_requests(sid, ops), 10, "Dave's request")
    assert (request["participantId"], request["method"]) == (JID[DAVE], "invite_link")
    approved = api.approve_membership_requests(sid, ops)  # omitted participants: all of them
    assert [(r["id"], r["status"]) for r in approved["results"]] == [(JID[DAVE], 200)]
    assert roles(linked, ops)[JID[DAVE]] == "member"
    rejected = api.reject_membership_requests(sid, ops, [CAROL])
    assert (rejected["success"], rejected["results"][0]["status"]) == (False, 404)
    asked = [d for n, d in stack.events(sid) if n == "group.join_request" and d["groupId"] == ops]
    assert asked[0]["participantIds"] == [JID[DAVE]]


def test_bad_input_and_refused_actions_are_4xx_with_a_code_and_change_nothing(
    linked: Linked, ops: str
) -> None:
    sid, api, stack = linked.session_id, linked.client.groups, linked.stack
    before = network_view(linked, ops)
    cases = {
        "not a group id": lambda: api.add_participants(sid, f"{BOB}@c.us", [DAVE]),
        "no participants": lambda: api.add_participants(sid, ops, []),
        "257 participants": lambda: api.add_participants(sid, ops, [f"1555{i:07d}" for i in range(257)]),
        "not a number": lambda: api.remove_participants(sid, ops, ["bob"]),
        "long subject": lambda: api.set_subject(sid, ops, "x" * 101),
        "bad timer": lambda: api.update_group_settings(sid, ops, {"ephemeralSeconds": 60}),
        "no settings": lambda: api.update_group_settings(sid, ops, {}),
        "unknown group": lambda: api.get(sid, "120363000000000009@g.us"),
        "creating with a stranger": lambda: api.create(sid, {"name": "X", "participants": [NOBODY]}),
    }
    answers = {name: ((e := refused(call)).status, e.code) for name, call in cases.items()}
    assert answers == {
        "not a group id": (400, "VALIDATION_ERROR"),
        "no participants": (400, "VALIDATION_ERROR"),
        "257 participants": (400, "VALIDATION_ERROR"),
        "not a number": (400, "VALIDATION_ERROR"),
        "long subject": (400, "VALIDATION_ERROR"),
        "bad timer": (400, "VALIDATION_ERROR"),
        "no settings": (400, "VALIDATION_ERROR"),
        "unknown group": (404, "GROUP_NOT_FOUND"),
        "creating with a stranger": (403, "ENGINE_REFUSED"),
    }
    assert network_view(linked, ops) == before
    assert [g["name"] for g in api.list(sid)] == ["Ops team"]

    # A group Bob runs, locked: Alice is a plain member there.
    bobs = stack.control("POST", "/groups", json={"owner": BOB, "subject": "Bob's", "participants": [ALICE]})[
        "id"
    ]
    stack.control("PATCH", f"/groups/{bobs}", json={"actor": BOB, "restrict": True})
    wait_for(lambda: any(g["id"] == bobs for g in api.list(sid)), 10, "Bob's group on Alice's side")
    not_admin = {
        "add": lambda: api.add_participants(sid, bobs, [CAROL]),
        "remove": lambda: api.remove_participants(sid, bobs, [BOB]),
        "rename": lambda: api.set_subject(sid, bobs, "Alice's"),
        "settings": lambda: api.update_group_settings(sid, bobs, {"announce": True}),
        "invite": lambda: api.invite_code(sid, bobs),
    }
    answers = {name: ((e := refused(call)).status, e.code) for name, call in not_admin.items()}
    assert answers == dict.fromkeys(not_admin, (403, "ENGINE_REFUSED"))
    view = network_view(linked, bobs)
    assert (view["subject"], view["announce"], len(view["participants"])) == ("Bob's", False, 2)


def test_leaving_a_group_takes_the_account_out(linked: Linked, ops: str) -> None:
    sid, api = linked.session_id, linked.client.groups
    assert api.leave(sid, ops)["success"] is True
    view = network_view(linked, ops)
    assert JID[ALICE] not in {p["id"] for p in view["participants"]}
    assert [p["id"] for p in view["participants"] if p["isSuperAdmin"]] != []  # WhatsApp hands the group on
    assert refused(lambda: api.get(sid, ops)).code == "GROUP_NOT_FOUND"
    assert ops not in [g["id"] for g in api.list(sid)]
    left = [d for n, d in linked.stack.events(sid) if n == "group.leave" and d["groupId"] == ops][-1]
    assert (left["actorId"], left["participantIds"]) == (JID[ALICE], [JID[ALICE]])
