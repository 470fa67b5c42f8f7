"""The sandbox's group rules, played from the phones' side through the control API (in-process, no browser):
admin-only actions, locked groups, announce groups, member-add mode, invite links and their revocation,
membership requests, pictures and the `gp2` notices members get. The engine meets each of them through
WPP.group in `tests/runner/test_groups.py`."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from runner.sandbox.app import SandboxConfig, create_app
from runner.sandbox.network import Network

OWNER, MEMBER, OTHER, STRANGER = "15550000001", "15550000002", "15550000003", "15550000004"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class Phones:
    def __init__(self, client: FlaskClient, network: Network) -> None:
        self.client, self.network = client, network

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.client.open(f"/_sandbox{path}", method=method, json=body)
        assert response.status_code == expect, response.get_data(as_text=True)
        return response.json

    def group(self, gid: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/groups/{gid}")
        return found

    def members(self, gid: str) -> dict[str, tuple[bool, bool]]:
        return {p["id"]: (p["isAdmin"], p["isSuperAdmin"]) for p in self.group(gid)["participants"]}


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Phones]:
    app, network = create_app(SandboxConfig(tmp_path / "sandbox"))
    client = app.test_client()
    for number, name in ((OWNER, "Olga"), (MEMBER, "Max"), (OTHER, "Otto"), (STRANGER, "Sue")):
        assert client.post("/_sandbox/phones", json={"number": number, "name": name}).status_code == 201
    yield Phones(client, network)
    network.store.close()


def _club(phones: Phones) -> str:
    body = {"owner": OWNER, "subject": "Club", "participants": [MEMBER]}
    gid: str = phones.call("POST", "/groups", body, 201)["id"]
    return gid


def test_only_admins_add_unless_every_member_may(phones: Phones) -> None:
    gid = _club(phones)
    add = {"actor": MEMBER, "operation": "add", "participants": [OTHER]}
    assert phones.call("POST", f"/groups/{gid}/participants", add, 400)["error"] == "not_admin"
    phones.call("PATCH", f"/groups/{gid}", {"actor": MEMBER, "memberAddMode": "all_member_add"}, 400)
    phones.call("PATCH", f"/groups/{gid}", {"actor": OWNER, "memberAddMode": "all_member_add"})
    assert phones.call("POST", f"/groups/{gid}/participants", add) == {f"{OTHER}@c.us": 200}
    remove = {"actor": MEMBER, "operation": "remove", "participants": [OTHER]}
    assert phones.call("POST", f"/groups/{gid}/participants", remove, 400)["error"] == "not_admin"
    assert f"{OTHER}@c.us" in phones.members(gid)


def test_a_locked_group_is_renamed_and_described_by_admins_only(phones: Phones) -> None:
    gid = _club(phones)
    phones.call("PATCH", f"/groups/{gid}", {"actor": MEMBER, "subject": "Max's club"})
    phones.call("PATCH", f"/groups/{gid}", {"actor": OWNER, "restrict": True})
    for change in (
        {"subject": "Mine now"},
        {"description": "mine"},
        {"picture": base64.b64encode(PNG).decode()},
    ):
        assert (
            phones.call("PATCH", f"/groups/{gid}", {"actor": MEMBER, **change}, 400)["error"] == "not_admin"
        )
    group = phones.group(gid)
    assert (group["subject"], group["desc"], group["picture"], group["restrict"]) == (
        "Max's club",
        "",
        None,
        True,
    )


def test_an_announce_group_fails_a_members_message_and_relays_an_admins(phones: Phones) -> None:
    gid = _club(phones)
    phones.call("PATCH", f"/groups/{gid}", {"actor": OWNER, "announce": True})
    refused = phones.call("POST", f"/phones/{MEMBER}/messages", {"to": gid, "text": "may I?"}, 201)
    assert refused["ack"] == -1
    phones.call("POST", f"/phones/{OWNER}/messages", {"to": gid, "text": "news"}, 201)
    assert [m["body"] for m in phones.call("GET", f"/phones/{MEMBER}/messages")] == ["news"]
    assert phones.call("GET", f"/phones/{OWNER}/messages") == []


def test_an_invite_code_lets_a_phone_in_until_it_is_revoked(phones: Phones) -> None:
    gid = _club(phones)
    code = phones.group(gid)["inviteCode"]
    assert phones.call("POST", "/groups/join", {"number": OTHER, "code": code}) == {
        "groupId": gid,
        "pendingApproval": False,
    }
    assert (
        phones.call("POST", "/groups/join", {"number": OTHER, "code": code}, 409)["error"] == "already_member"
    )
    phones.call("POST", f"/groups/{gid}/invite-code/revoke", {"actor": MEMBER}, 400)
    assert phones.call("POST", f"/groups/{gid}/invite-code/revoke", {"actor": OWNER})["inviteCode"] != code
    refused = phones.call("POST", "/groups/join", {"number": STRANGER, "code": code}, 404)
    assert refused["error"] == "invalid_invite_code"
    assert f"{STRANGER}@c.us" not in phones.members(gid)


def test_with_approval_on_a_join_waits_as_a_request_for_the_admins(phones: Phones) -> None:
    gid = _club(phones)
    phones.call("PATCH", f"/groups/{gid}", {"actor": OWNER, "approval": True})
    code = phones.group(gid)["inviteCode"]
    assert phones.call("POST", "/groups/join", {"number": OTHER, "code": code})["pendingApproval"] is True
    phones.call("POST", f"/groups/{gid}/join-requests", {"number": STRANGER}, 201)
    requests = phones.group(gid)["requests"]
    assert [(r["id"], r["method"]) for r in requests] == [
        (f"{OTHER}@c.us", "invite_link"),
        (f"{STRANGER}@c.us", "invite_link"),
    ]
    assert f"{OTHER}@c.us" not in phones.members(gid)


def test_a_picture_is_served_to_whoever_has_its_url_and_removed(phones: Phones) -> None:
    gid = _club(phones)
    assert phones.client.get(f"/_wa/picture/{gid}").status_code == 404
    phones.call("PATCH", f"/groups/{gid}", {"actor": MEMBER, "picture": base64.b64encode(PNG).decode()})
    served = phones.client.get(f"/_wa/picture/{gid}")
    assert (served.status_code, served.data) == (200, PNG)
    phones.call("PATCH", f"/groups/{gid}", {"actor": OWNER, "picture": None})
    assert phones.client.get(f"/_wa/picture/{gid}").status_code == 404


def test_settings_refuse_values_whatsapp_does_not_offer(phones: Phones) -> None:
    gid = _club(phones)
    for bad in ({"ephemeral": 3600}, {"ephemeral": True}, {"memberAddMode": "anyone"}, {"announce": "yes"}):
        phones.call("PATCH", f"/groups/{gid}", {"actor": OWNER, **bad}, 400)
    phones.call("PATCH", f"/groups/{gid}", {"actor": OWNER, "ephemeral": 86_400})
    group = phones.group(gid)
    assert (group["ephemeralDuration"], group["memberAddMode"], group["announce"]) == (
        86_400,
        "admin_add",
        False,
    )
