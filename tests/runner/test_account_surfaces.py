"""The account's other surfaces end to end (issue #17): the OpenWA SDK's `profile`, `contacts`, presence and
`calls` methods through the API, a real runner, Chromium and the sandbox.

Alice's account is the session; Bob and Carol are phones. One linked session serves the whole module and the
stories run in order; every change is checked where WhatsApp shows it (Bob's view of Alice, the network's
phones) and bad input is refused with a code and changes nothing.
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

REJECT_REPLY = "Sorry, I can't take calls: please write."


@pytest.fixture(scope="module")
def linked(stack: Stack) -> Iterator[Linked]:
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-account", AUTO_REJECT_CALLS_MESSAGE=REJECT_REPLY)
    yield link_alice(stack, "alice-account")
    stack.stop_runners()


def refused(call: Any) -> OpenWAApiError:
    with pytest.raises(OpenWAApiError) as info:
        call()
    return info.value


def phone(linked: Linked, number: str) -> dict[str, Any]:
    view: dict[str, Any] = linked.stack.control("GET", f"/phones/{number}")
    return view


def alice_as_bob_sees_her(linked: Linked) -> dict[str, Any]:
    """Alice's name and picture as her contacts get them (the network's contact record, the picture CDN)."""
    picture = httpx.get(f"{linked.stack.sandbox_url}/_wa/picture/{ALICE}", timeout=10)
    return {
        "name": phone(linked, ALICE)["name"],
        "about": phone(linked, ALICE)["about"],
        "picture": picture.content[:2] if picture.status_code == 200 else None,
    }


def test_profile_name_status_and_picture_change_what_contacts_see(linked: Linked) -> None:
    api, sid = linked.client.profile, linked.session_id
    assert api.set_profile_name(sid, {"name": "Alice Ops"}) == {
        "success": True,
        "message": "Profile name updated",
    }
    assert api.set_profile_status(sid, {"status": "On call"})["success"] is True
    png = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png"}
    assert api.set_profile_picture(sid, png)["success"] is True  # type: ignore[arg-type]
    # WhatsApp Web resizes the picture to a 640x640 JPEG (FF D8) before it leaves the page.
    seen = alice_as_bob_sees_her(linked)
    assert seen == {"name": "Alice Ops", "about": "On call", "picture": b"\xff\xd8"}

    assert api.delete_profile_picture(sid)["success"] is True
    assert api.set_profile_status(sid, {"status": ""})["success"] is True  # empty clears
    assert alice_as_bob_sees_her(linked) == {"name": "Alice Ops", "about": "", "picture": None}


def test_bad_profile_input_is_refused_with_a_code_and_changes_nothing(linked: Linked) -> None:
    api, sid = linked.client.profile, linked.session_id
    before = alice_as_bob_sees_her(linked)
    too_long = refused(lambda: api.set_profile_name(sid, {"name": "x" * 26}))
    blank = refused(lambda: api.set_profile_name(sid, {"name": "   "}))
    long_status = refused(lambda: api.set_profile_status(sid, {"status": "y" * 140}))
    both = refused(lambda: api.set_profile_picture(sid, {"url": "https://a.example/a.png", "base64": "AA=="}))
    not_image = refused(
        lambda: api.set_profile_picture(
            sid, {"base64": base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode(), "mimetype": "image/png"}
        )
    )
    private = refused(lambda: api.set_profile_picture(sid, {"url": "http://10.0.0.1/a.png"}))
    codes = [(e.status, e.code) for e in (too_long, blank, long_status, both, not_image)]
    assert codes == [(400, "VALIDATION_ERROR")] * 4 + [(400, "INVALID_MEDIA")]
    assert (private.status, bool(private.code)) in ((400, True), (422, True))
    assert alice_as_bob_sees_her(linked) == before


def test_address_book_saves_renames_and_removes_a_contact(linked: Linked) -> None:
    api, sid, bob = linked.client.contacts, linked.session_id, f"{BOB}@c.us"
    assert api.upsert(sid, bob, {"firstName": "Robert", "lastName": "Brown"}) == {
        "success": True,
        "message": "Contact saved",
    }
    saved = api.get(sid, bob)
    assert (saved["name"], saved["pushName"], saved["isMyContact"]) == ("Robert Brown", "Bob", True)
    assert api.upsert(sid, f"+{BOB}", {"firstName": "Bobby"})["success"] is True  # a phone number works too
    assert api.get(sid, bob)["name"] == "Bobby"

    assert api.delete(sid, bob)["success"] is True
    removed = api.get(sid, bob)
    assert (removed["name"], removed["pushName"], removed["isMyContact"]) == (None, "Bob", False)
    again = refused(lambda: api.delete(sid, bob))  # wa-js: number_is_not_your_contact
    assert (again.status, again.code) == (404, "CONTACT_NOT_FOUND")


def test_bad_address_book_input_is_refused_and_changes_nothing(linked: Linked) -> None:
    api, sid, carol = linked.client.contacts, linked.session_id, f"{CAROL}@c.us"
    before = api.get(sid, carol)
    by_lid = refused(lambda: api.upsert(sid, lid_of(CAROL), {"firstName": "Caz"}))
    group = refused(lambda: api.upsert(sid, "120363040000000001@g.us", {"firstName": "Ops"}))
    blank = refused(lambda: api.upsert(sid, carol, {"firstName": "  "}))
    unknown_field = refused(lambda: api.upsert(sid, carol, {"firstName": "C", "nick": "x"}))  # type: ignore[typeddict-unknown-key]
    delete_lid = refused(lambda: api.delete(sid, lid_of(CAROL)))
    errors = (by_lid, group, blank, unknown_field, delete_lid)
    assert [(e.status, e.code) for e in errors] == [(400, "VALIDATION_ERROR")] * 5
    assert "@lid" in str(by_lid.body)
    assert api.get(sid, carol) == before


def test_a_lid_resolves_to_its_phone_number(linked: Linked) -> None:
    api, sid = linked.client.contacts, linked.session_id
    assert api.phone(sid, lid_of(BOB)) == {"contactId": lid_of(BOB), "phone": BOB}
    assert api.phone(sid, f"{CAROL}@c.us") == {"contactId": f"{CAROL}@c.us", "phone": CAROL}
    assert api.phone(sid, "99999999999@lid") == {"contactId": "99999999999@lid", "phone": None}
    assert refused(lambda: api.phone(sid, "not-an-id")).status == 400


def test_profile_pictures_in_one_batch_of_at_most_50(linked: Linked) -> None:
    sid = linked.session_id
    png = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png"}
    linked.client.profile.set_profile_picture(sid, png)  # type: ignore[arg-type]
    strangers = [f"1555700{n:04d}@c.us" for n in range(60)]
    found = linked.client.contacts.profile_pictures(sid, [ALICE, BOB, *strangers])["pictures"]
    assert len(found) == 50
    assert list(found)[:2] == [f"{ALICE}@c.us", f"{BOB}@c.us"]
    assert httpx.get(found[f"{ALICE}@c.us"], timeout=10).content[:2] == b"\xff\xd8"
    assert found[f"{BOB}@c.us"] is None
    assert set(list(found.values())[2:]) == {None}
    assert refused(lambda: linked.client.contacts.profile_pictures(sid, ["nobody"])).status == 400
    linked.client.profile.delete_profile_picture(sid)


def presence_events(linked: Linked, chat: str) -> list[dict[str, Any]]:
    return [
        d for n, d in linked.stack.events(linked.session_id) if n == "presence.update" and d["chatId"] == chat
    ]


def test_presence_of_a_chat_is_followed_and_the_last_one_kept(linked: Linked) -> None:
    chats, sid, bob = linked.client.chats, linked.session_id, f"{BOB}@c.us"
    assert chats.get_presence(sid, f"{CAROL}@c.us") is None  # nothing reported yet
    assert chats.subscribe_presence(sid, {"chatId": bob})["success"] is True
    linked.stack.control(
        "POST", f"/phones/{BOB}/presence", json={"chat": f"{ALICE}@c.us", "state": "composing"}
    )

    event = wait_for(lambda: next(iter(presence_events(linked, bob)), None), 15, "Bob's presence.update")
    assert [(p["id"], p["state"]) for p in event["participants"]] == [(bob, "composing")]
    last = chats.get_presence(sid, bob)
    assert last is not None
    assert (last["chatId"], last["participants"], last["observedAt"]) == (
        bob,
        [{"id": bob, "state": "composing"}],  # lastSeen absent: WhatsApp did not say
        event["observedAt"],
    )
    assert refused(lambda: chats.subscribe_presence(sid, {"chatId": "status@broadcast"})).status == 400
    assert refused(lambda: chats.get_presence(sid, "nobody")).status == 400


def test_own_presence_is_what_contacts_see(linked: Linked) -> None:
    sessions, sid = linked.client.sessions, linked.session_id
    linked.stack.control("POST", f"/phones/{BOB}/messages", json={"to": f"{ALICE}@c.us", "text": "there?"})
    wait_for(lambda: any(n == "message.received" for n, _ in linked.stack.events(sid)), 15, "Bob's message")

    def alice_as_bob_sees_her() -> list[str]:
        shown = linked.stack.control("GET", f"/phones/{BOB}/presence")
        return [p["state"] for p in shown if p["from"] == f"{ALICE}@c.us"]

    assert sessions.set_online_presence(sid, {"available": False}) == {
        "success": True,
        "message": "Presence set to offline",
    }
    assert alice_as_bob_sees_her()[-1:] == ["unavailable"]
    assert sessions.set_online_presence(sid, {"available": True})["success"] is True
    assert alice_as_bob_sees_her()[-1:] == ["available"]
    bad = refused(lambda: sessions.set_online_presence(sid, {"available": "no"}))  # type: ignore[typeddict-item]
    assert (bad.status, bad.code) == (400, "VALIDATION_ERROR")
    assert alice_as_bob_sees_her()[-1:] == ["available"]


def ring(linked: Linked, caller: str) -> str:
    """`caller` rings Alice; the call id once the session has published its `call.received`."""
    call_id: str = linked.stack.control("POST", f"/phones/{caller}/calls", json={"to": f"{ALICE}@c.us"})[
        "callId"
    ]

    def received() -> dict[str, Any] | None:
        events = linked.stack.events(linked.session_id)
        return next((d for n, d in events if n == "call.received" and d["callId"] == call_id), None)

    event = wait_for(received, 15, f"call.received for {call_id}")
    assert (event["from"], event["isVideo"], event["isGroup"]) == (f"{caller}@c.us", False, False)
    return call_id


def bodies(linked: Linked, number: str) -> list[str]:
    return [str(m.get("body")) for m in linked.inbox(number)]


def call_state(linked: Linked, call_id: str) -> str:
    state: str = linked.stack.control("GET", f"/calls/{call_id}")["state"]
    return state


def test_a_ringing_call_is_rejected_once(linked: Linked) -> None:
    api, sid = linked.client.calls, linked.session_id
    call_id = ring(linked, BOB)
    assert call_state(linked, call_id) == "ringing"
    assert api.reject_call(sid, call_id) == {"success": True}
    assert call_state(linked, call_id) == "rejected"  # what Bob sees: declined

    again = refused(lambda: api.reject_call(sid, call_id))
    unknown = refused(lambda: api.reject_call(sid, "ABCDEF0123456789"))
    assert [(e.status, e.code) for e in (again, unknown)] == [(404, "CALL_NOT_FOUND")] * 2
    assert refused(lambda: api.reject_call(sid, "no!")).status == 400


def test_auto_reject_calls_follows_the_session_config(linked: Linked) -> None:
    sessions, sid = linked.client.sessions, linked.session_id
    sessions.update_config(sid, {"autoRejectCalls": True})
    try:
        call_id = ring(linked, CAROL)
        wait_for(lambda: call_state(linked, call_id) == "rejected", 10, "the call rejected automatically")
        wait_for(lambda: REJECT_REPLY in bodies(linked, CAROL), 15, "AUTO_REJECT_CALLS_MESSAGE to Carol")
    finally:
        sessions.update_config(sid, {"autoRejectCalls": False})
    kept = ring(linked, CAROL)  # the config is read at each call: this one rings on
    assert linked.client.calls.reject_call(sid, kept) == {"success": True}  # 404 had the guard taken it


def test_call_links_are_not_supported_by_wa_js(linked: Linked) -> None:
    api, sid = linked.client.calls, linked.session_id
    answer = refused(lambda: api.create_link(sid, {"type": "video", "startTime": 1767225600000.0}))
    assert (answer.status, answer.code) == (501, "ENGINE_NOT_SUPPORTED")
    bad = refused(lambda: api.create_link(sid, {"type": "hologram", "startTime": 0}))  # type: ignore[typeddict-item]
    assert (bad.status, bad.code) == (400, "VALIDATION_ERROR")
