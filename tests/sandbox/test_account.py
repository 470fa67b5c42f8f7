"""The sandbox's side of the account surfaces (issue #17), in-process and without a browser: the page calls
the WPP double makes for a linked phone (`rpc_account.py`), checked from the other phones' side (the control
API and the picture CDN). The engine meets them through WPP in `tests/runner/test_account_surfaces.py`."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from runner.sandbox import ids, rpc
from runner.sandbox.app import SandboxConfig, create_app
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import Device
from runner.sandbox.network import Network

ALICE, BOB = "15550000001", "15550000002"
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


class Account:
    """Alice's linked page, calling the network as the WPP double does."""

    def __init__(self, client: FlaskClient, network: Network) -> None:
        self.client, self.network = client, network
        self.device = Device(id=f"{ALICE}:1@c.us", token="t", number=ALICE, linked_at=0)

    def rpc(self, method: str, **args: Any) -> Any:
        return rpc.call(self.network, self.device, method, args)

    def bob_sees_alice(self) -> Any:
        as_bob = Device(id=f"{BOB}:1@c.us", token="b", number=BOB, linked_at=0)
        contact = rpc.call(self.network, as_bob, "contact", {"id": ids.user_jid(ALICE)})
        picture = self.client.get(f"/_wa/picture/{ALICE}")
        return contact["name"], picture.data if picture.status_code == 200 else None


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Account]:
    app, network = create_app(SandboxConfig(tmp_path / "sandbox"))
    client = app.test_client()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob")):
        assert client.post("/_sandbox/phones", json={"number": number, "name": name}).status_code == 201
    yield Account(client, network)
    network.store.close()


def test_a_profile_picture_and_name_are_what_contacts_get(account: Account) -> None:
    account.rpc("profile", name="Alice Ops")
    assert account.rpc("profile.picture", data=base64.b64encode(JPEG).decode()) == {"status": 200}
    assert account.bob_sees_alice() == ("Alice Ops", JPEG)
    assert account.rpc("profile.picture", data=None) == {"status": 200}
    assert account.bob_sees_alice() == ("Alice Ops", None)


def test_a_picture_that_is_not_base64_is_refused(account: Account) -> None:
    with pytest.raises(BadRequest):
        account.rpc("profile.picture", data="not base64!")
    assert account.bob_sees_alice() == ("Alice", None)


def test_the_address_book_is_the_owners_own(account: Account) -> None:
    bob = ids.user_jid(BOB)
    saved = account.rpc("contact.save", id=bob, firstName="Robert", lastName="Brown")
    assert (saved["name"], saved["pushname"], saved["isMyContact"]) == ("Robert Brown", "Bob", True)
    removed = account.rpc("contact.remove", id=bob)
    assert (removed["name"], removed["isMyContact"]) == ("", False)
    phone = account.network.phone(ALICE)
    assert phone.address_book == {bob: None}
    with pytest.raises(BadRequest) as not_listed:
        account.rpc("contact.remove", id=bob)
    assert not_listed.value.code == "number_is_not_your_contact"
    with pytest.raises(NotFound) as unknown:
        account.rpc("contact.remove", id="15559999999@c.us")
    assert unknown.value.code == "contact_not_found"
    with pytest.raises(BadRequest):
        account.rpc("contact.save", id="120363040000000001@g.us", firstName="Ops")
    with pytest.raises(BadRequest):
        account.rpc("contact.save", id=bob, firstName="  ")
    assert phone.address_book == {bob: None}


def test_going_offline_is_shown_to_the_people_alice_chats_with(account: Account) -> None:
    account.client.post(f"/_sandbox/phones/{BOB}/messages", json={"to": ids.user_jid(ALICE), "text": "hi"})
    account.rpc("presence.available", available=False)
    shown = account.client.get(f"/_sandbox/phones/{BOB}/presence").json
    assert [(p["from"], p["state"]) for p in shown] == [(ids.user_jid(ALICE), "unavailable")]
    account.rpc("presence.available", available=True)
    shown = account.client.get(f"/_sandbox/phones/{BOB}/presence").json
    assert shown[-1]["state"] == "available"


def test_a_call_is_rejected_only_by_its_callee_and_only_while_it_rings(account: Account) -> None:
    rung = account.client.post(f"/_sandbox/phones/{BOB}/calls", json={"to": ids.user_jid(ALICE)})
    call_id = rung.json["callId"]
    assert account.client.get(f"/_sandbox/calls/{call_id}").json["state"] == "ringing"
    as_bob = Device(id=f"{BOB}:1@c.us", token="b", number=BOB, linked_at=0)
    with pytest.raises(NotFound) as not_his:
        rpc.call(account.network, as_bob, "call.reject", {"callId": call_id})
    assert not_his.value.code == "call_not_found"
    assert account.rpc("call.reject", callId=call_id) is True
    assert account.client.get(f"/_sandbox/calls/{call_id}").json["state"] == "rejected"
    with pytest.raises(BadRequest) as again:
        account.rpc("call.reject", callId=call_id)
    assert again.value.code == "call_is_not_incoming_ring"
    assert account.client.get("/_sandbox/calls/NOPE").status_code == 404
