"""The sandbox's side of business labels and WhatsApp Channels (issue #17), in-process and without a
browser: the page calls the WPP double makes for a linked phone (`rpc_labels.py`, `rpc_channels.py`), checked
from the phones' side through the control API (`control_business.py`). The engine meets them through WPP in
`tests/runner/test_labels_and_channels.py`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from runner.sandbox import rpc
from runner.sandbox.app import SandboxConfig, create_app
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import Device
from runner.sandbox.network import Network

ALICE, BOB, CAROL = "15550000001", "15550000002", "15550000003"
BOB_CHAT = f"{BOB}@c.us"


class Phones:
    """The network, and a linked page for any phone, calling it as the WPP double does."""

    def __init__(self, client: FlaskClient, network: Network) -> None:
        self.client, self.network = client, network

    def rpc(self, number: str, method: str, **args: Any) -> Any:
        device = Device(id=f"{number}:1@c.us", token=number, number=number, linked_at=0)
        return rpc.call(self.network, device, method, args)

    def control(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.client.open(f"/_sandbox{path}", method=method, json=body)
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    def refused(self, number: str, method: str, **args: Any) -> tuple[int, str]:
        with pytest.raises((BadRequest, NotFound)) as info:
            self.rpc(number, method, **args)
        return info.value.status, info.value.code


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Phones]:
    app, network = create_app(SandboxConfig(tmp_path / "sandbox"))
    client = app.test_client()
    made = Phones(client, network)
    made.control("POST", "/phones", {"number": ALICE, "name": "Alice", "business": True}, expect=201)
    for number, name in ((BOB, "Bob"), (CAROL, "Carol")):
        made.control("POST", "/phones", {"number": number, "name": name}, expect=201)
    yield made
    network.store.close()


def test_a_business_phone_says_so_to_its_pages_and_the_control_api(phones: Phones) -> None:
    assert phones.control("GET", f"/phones/{ALICE}")["business"] is True
    assert phones.control("GET", f"/phones/{BOB}")["business"] is False
    device = Device(id=f"{ALICE}:1@c.us", token="a", number=ALICE, linked_at=0)
    assert phones.network.me(device)["business"] is True
    bad = phones.client.post("/_sandbox/phones", json={"number": "15550000009", "business": "yes"})
    assert bad.status_code == 400
    assert phones.control("GET", "/phones/15550000009", expect=404)["error"] == "phone_not_found"


def test_labels_on_chats_are_what_the_business_app_shows(phones: Phones) -> None:
    first = phones.rpc(ALICE, "labels.add", name="New customer", color=3)
    second = phones.rpc(ALICE, "labels.add", name="VIP")  # the next free colour
    assert (first["id"], first["colorIndex"], second["id"], second["colorIndex"]) == ("1", 3, "2", 0)
    phones.rpc(ALICE, "labels.chat", chat=BOB_CHAT, id="1", add=True)
    chat = phones.rpc(ALICE, "labels.chat", chat=BOB_CHAT, id="2", add=True)
    assert chat["labels"] == ["1", "2"]
    phones.rpc(ALICE, "labels.edit", id="1", name="Lead", color=5)
    assert phones.rpc(ALICE, "labels.delete", id="2") == {"deleted": True}
    assert phones.rpc(ALICE, "labels.delete", id="2") == {"deleted": False}  # wa-js does not throw
    third = phones.rpc(ALICE, "labels.add", name="Paid")
    assert third["id"] == "3"  # WhatsApp does not reuse a deleted label's id
    shown = phones.control("GET", f"/phones/{ALICE}/labels")
    assert [(x["id"], x["name"], x["colorIndex"], x["chats"], x["count"]) for x in shown] == [
        ("1", "Lead", 5, [BOB_CHAT], 1),
        ("3", "Paid", 0, [], 0),
    ]


def test_label_writes_keep_wa_js_rules_and_change_nothing_when_refused(phones: Phones) -> None:
    phones.rpc(ALICE, "labels.add", name="Lead")
    before = phones.control("GET", f"/phones/{ALICE}/labels")
    assert phones.refused(BOB, "labels.add", name="Lead") == (400, "is_not_business")
    assert phones.refused(BOB, "labels.chat", chat=f"{ALICE}@c.us", id="1", add=True) == (
        400,
        "is_not_business",
    )
    assert phones.refused(ALICE, "labels.add", name="X", color=20) == (400, "color_not_in_pallet")
    assert phones.refused(ALICE, "labels.edit", id="9", name="X") == (404, "label_not_exist")
    assert phones.refused(ALICE, "labels.chat", chat=BOB_CHAT, id="9", add=True) == (404, "label_not_exist")
    assert phones.refused(ALICE, "labels.add", name="  ") == (400, "bad_request")
    assert phones.rpc(BOB, "labels.list") == []
    assert phones.control("GET", f"/phones/{ALICE}/labels") == before
    assert phones.control("GET", "/phones/123/labels", expect=400)["error"] == "bad_request"


def test_a_phones_channel_is_found_by_invite_followed_muted_and_read(phones: Phones) -> None:
    made = phones.control("POST", f"/phones/{BOB}/channels", {"name": "Deals", "description": "Weekly"}, 201)
    assert made["id"].endswith("@newsletter")
    assert made["role"] == "owner"
    phones.control("POST", f"/channels/{made['id']}/posts", {"number": BOB, "text": "10% off"}, 201)
    found = phones.rpc(ALICE, "newsletter.search", query=made["inviteCode"], limit=20)["newsletters"]
    assert [(n["idJid"], n["inviteCode"]) for n in found] == [(made["id"], made["inviteCode"])]
    assert phones.rpc(ALICE, "newsletter.follow", id=made["id"]) is True
    listed = phones.rpc(ALICE, "newsletter.list")
    assert [(c["id"], c["isNewsletter"], c["newsletterMetadata"]["size"]) for c in listed] == [
        (made["id"], True, 1)
    ]
    assert [m["body"] for m in phones.rpc(ALICE, "newsletter.messages", id=made["id"], count=5)] == [
        "10% off"
    ]
    assert phones.rpc(ALICE, "newsletter.mute", id=made["id"], mute=True)["isMuted"] is True
    assert phones.control("GET", f"/phones/{ALICE}/channels")[0]["muted"] is True
    assert phones.control("GET", f"/channels/invite/{made['inviteCode']}")["followers"] == [f"{ALICE}@c.us"]
    assert phones.rpc(ALICE, "newsletter.unfollow", id=made["id"]) is True
    assert phones.control("GET", f"/phones/{ALICE}/channels") == []


def test_only_a_channels_owner_posts_to_it_or_deletes_it(phones: Phones) -> None:
    made = phones.rpc(ALICE, "newsletter.create", name="Alice's shop", description="")
    code = made["inviteCode"]
    assert phones.control("GET", f"/channels/invite/{code}")["owner"] == f"{ALICE}@c.us"
    phones.control("POST", f"/phones/{CAROL}/channels/follow", {"inviteCode": code})
    refused = phones.control("POST", f"/channels/{made['idJid']}/posts", {"number": CAROL, "text": "hi"}, 400)
    assert refused["error"] == "not_channel_owner"
    assert phones.rpc(CAROL, "newsletter.destroy", id=made["idJid"]) == {"deleted": False}
    assert phones.refused(BOB, "newsletter.mute", id=made["idJid"], mute=True) == (404, "chat_not_found")
    assert phones.refused(BOB, "newsletter.follow", id="120363999999999999@newsletter") == (
        400,
        "newsletter_follow_failed",
    )
    assert phones.rpc(ALICE, "newsletter.destroy", id=made["idJid"]) == {"deleted": True}
    assert phones.control("GET", f"/channels/invite/{code}", expect=404)["error"] == "channel_invite_invalid"
    assert phones.control("GET", f"/phones/{CAROL}/channels") == []


def test_bad_channel_control_input_is_refused(phones: Phones) -> None:
    assert phones.control("POST", f"/phones/{BOB}/channels", {"name": ""}, 400)["error"] == "invalid_name"
    assert phones.control("POST", f"/phones/{BOB}/channels", {"name": "X", "owner": BOB}, 400)
    assert phones.control("POST", "/channels/1@newsletter/posts", {"number": BOB, "text": "x"}, 404)
    assert phones.control("POST", f"/phones/{BOB}/channels/follow", {"inviteCode": "nope"}, 404)
    assert phones.control("GET", f"/phones/{BOB}/channels") == []


def test_channels_and_labels_survive_a_restart(tmp_path: Path) -> None:
    app, network = create_app(SandboxConfig(tmp_path / "sandbox"))
    client = app.test_client()
    client.post("/_sandbox/phones", json={"number": ALICE, "name": "Alice", "business": True})
    phones = Phones(client, network)
    phones.rpc(ALICE, "labels.add", name="Lead")
    made = phones.control("POST", f"/phones/{ALICE}/channels", {"name": "Shop"}, 201)
    network.store.close()
    app, network = create_app(SandboxConfig(tmp_path / "sandbox"))
    again = Phones(app.test_client(), network)
    try:
        assert [x["name"] for x in again.control("GET", f"/phones/{ALICE}/labels")] == ["Lead"]
        assert again.control("GET", f"/channels/invite/{made['inviteCode']}")["name"] == "Shop"
        assert again.control("GET", f"/phones/{ALICE}")["business"] is True
    finally:
        network.store.close()
