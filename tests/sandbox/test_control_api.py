"""The control API's answers to bad input, and the network surviving a restart (in-process, no browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from runner.sandbox.app import SandboxConfig, create_app
from runner.sandbox.network import Network
from tests.sandbox.wajs_dts import ensure_installed, read


@pytest.fixture
def app_and_network(tmp_path: Path) -> Iterator[tuple[FlaskClient, Network]]:
    app, network = create_app(SandboxConfig(tmp_path / "sandbox"))
    yield app.test_client(), network
    network.store.close()


@pytest.fixture
def client(app_and_network: tuple[FlaskClient, Network]) -> FlaskClient:
    client = app_and_network[0]
    assert client.post("/_sandbox/phones", json={"number": "15550000001", "name": "Alice"}).status_code == 201
    return client


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/_sandbox/phones", {"number": "+1 555", "name": "x"}, "number must be"),
        ("/_sandbox/phones", {"number": "15550000009", "nick": "x"}, "unknown field(s): nick"),
        ("/_sandbox/phones", [1, 2], "JSON object"),
        ("/_sandbox/phones/15550000001/link", {}, "exactly one of qr and pairingCode"),
        ("/_sandbox/phones/15550000001/link", {"qr": "not-a-qr"}, "what a QR holds"),
        ("/_sandbox/phones/15550000001/link", {"pairingCode": "0000-0000"}, "pairingCode must be"),
        ("/_sandbox/phones/15550000001/messages", {"to": "bob", "text": "hi"}, "not a valid chat id"),
        ("/_sandbox/phones/15550000001/messages", {"to": "15550000002"}, "exactly one of"),
        (
            "/_sandbox/phones/15550000001/messages",
            {"to": "15550000001", "media": {"base64": "!!"}},
            "mimetype",
        ),
        ("/_sandbox/phones/15550000001/read", {"chat": 5}, "chat must be"),
        ("/_sandbox/faults", {"number": "15550000001", "kind": "meteor"}, "kind must be one of"),
        ("/_sandbox/phones/15550000001/status", {}, "exactly one of"),
        ("/_sandbox/phones/15550000001/calls", {"isVideo": True}, "missing field(s): to"),
        ("/_sandbox/phones/15550000001/calls", {"to": "120363000000000001@g.us"}, "no group calls"),
        ("/_sandbox/faults", {"number": "15550000001", "kind": "ack_delay", "ms": -1}, "ms must be"),
    ],
)
def test_malformed_requests_are_400_with_a_message(
    client: FlaskClient, path: str, body: object, words: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 400, response.json
    assert words in response.json["message"]  # type: ignore[index]


def test_unknown_phone_is_404(client: FlaskClient) -> None:
    assert client.get("/_sandbox/phones/15559999999").status_code == 404
    assert client.post("/_sandbox/phones/15559999999/link", json={"qr": "a,b,c,d"}).status_code == 404
    response = client.post("/_sandbox/phones/15559999999/messages", json={"to": "15550000001", "text": "x"})
    assert response.status_code == 404
    to_nobody = client.post("/_sandbox/phones/15550000001/messages", json={"to": "15559999999", "text": "x"})
    assert (to_nobody.status_code, to_nobody.json["error"]) == (404, "chat_not_found")  # type: ignore[index]
    assert (
        client.post("/_sandbox/faults", json={"number": "15559999999", "kind": "logout"}).status_code == 404
    )


def test_existing_number_is_409(client: FlaskClient) -> None:
    response = client.post("/_sandbox/phones", json={"number": "15550000001", "name": "Again"})
    assert response.status_code == 409
    assert "already exists" in response.json["message"]  # type: ignore[index]


def test_phones_chats_and_messages_survive_a_restart(tmp_path: Path) -> None:
    app, network = create_app(SandboxConfig(tmp_path / "sandbox"))
    client = app.test_client()
    client.post("/_sandbox/phones", json={"number": "15550000001", "name": "Alice"})
    client.post("/_sandbox/phones", json={"number": "15550000002", "name": "Bob"})
    sent = client.post("/_sandbox/phones/15550000001/messages", json={"to": "15550000002", "text": "persist"})
    network.store.close()

    again, network = create_app(SandboxConfig(tmp_path / "sandbox"))
    [received] = again.test_client().get("/_sandbox/phones/15550000002/messages").json  # type: ignore[misc]
    assert (received["stanzaId"], received["body"]) == (sent.json["stanzaId"], "persist")  # type: ignore[index]
    network.store.close()


def test_faults_list_and_clear(client: FlaskClient) -> None:
    client.post("/_sandbox/faults", json={"number": "15550000001", "kind": "error_463", "count": 2})
    assert client.get("/_sandbox/faults").json == [{"number": "15550000001", "kind": "error_463", "count": 2}]
    assert client.delete("/_sandbox/faults").status_code == 200
    assert client.get("/_sandbox/faults").json == []


def test_dts_reader_sees_overloads_and_optional_parameters() -> None:
    declared = read(ensure_installed())
    assert declared.functions["chat"]["sendTextMessage"] == {3}
    assert declared.functions["chat"]["starMessage"] == {2}
    assert declared.functions["conn"]["genLinkDeviceCodeForPhoneNumber"] == {2}


def test_a_status_post_reaches_every_other_phone_and_a_call_to_nobody_is_404(client: FlaskClient) -> None:
    client.post("/_sandbox/phones", json={"number": "15550000002", "name": "Bob"})
    posted = client.post("/_sandbox/phones/15550000001/status", json={"text": "out for lunch"})
    assert posted.status_code == 201
    [seen] = client.get("/_sandbox/phones/15550000002/messages").json  # type: ignore[misc]
    assert (seen["stanzaId"], seen["chat"], seen["body"]) == (
        posted.json["statusId"],  # type: ignore[index]
        "status@broadcast",
        "out for lunch",
    )
    assert client.post("/_sandbox/phones/15550000001/calls", json={"to": "15559999999"}).status_code == 404
    rung = client.post("/_sandbox/phones/15550000002/calls", json={"to": "15550000001", "isVideo": True})
    assert (rung.status_code, rung.json["isVideo"]) == (201, True)  # type: ignore[index]


def test_join_requests_need_a_group_and_a_stranger(client: FlaskClient) -> None:
    client.post("/_sandbox/phones", json={"number": "15550000002", "name": "Bob"})
    group = client.post("/_sandbox/groups", json={"owner": "15550000001", "subject": "Club"}).json
    path = f"/_sandbox/groups/{group['id']}/join-requests"  # type: ignore[index]
    assert client.post(path, json={"number": "15550000002"}).status_code == 201
    assert client.post(path, json={"number": "15550000001"}).status_code == 409
    missing = "/_sandbox/groups/120363000000000001@g.us/join-requests"
    assert client.post(missing, json={"number": "15550000002"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"qrInterval": -1}, "qrInterval must be a non-negative number"),
        ({"qrRotations": 0}, "qrRotations must be a whole number of at least 1"),
        ({"qrRotations": 1.5}, "qrRotations must be a whole number of at least 1"),
        ({"pairingCodeSeconds": True}, "pairingCodeSeconds must be a non-negative number"),
        ({"qrSpeed": 2}, "unknown field(s): qrSpeed"),
    ],
)
def test_bad_linking_settings_are_400_and_change_nothing(
    client: FlaskClient, body: object, words: str
) -> None:
    before = client.get("/_sandbox/settings").json
    response = client.put("/_sandbox/settings", json=body)
    assert response.status_code == 400, response.json
    assert words in response.json["message"]  # type: ignore[index]
    assert client.get("/_sandbox/settings").json == before


def test_linking_settings_change_at_run_time_and_reset_restores_them(client: FlaskClient) -> None:
    defaults = client.get("/_sandbox/settings").json
    changed = client.put("/_sandbox/settings", json={"qrRotations": 2, "pairingCodeSeconds": 1.5})
    assert changed.status_code == 200
    assert changed.json == {**defaults, "qrRotations": 2.0, "pairingCodeSeconds": 1.5}  # type: ignore[dict-item]
    client.post("/_sandbox/reset", json={})
    assert client.get("/_sandbox/settings").json == defaults
