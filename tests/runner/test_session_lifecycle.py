"""Stories of one session driven through the OpenWA SDK, held by a real runner on the sandbox."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection
from typing import Any

import httpx
import pytest
from openwa import OpenWAClient

from tests.runner.conftest import Stack, wait_for

pytestmark = pytest.mark.e2e

PHONE = "15550001111"
BOB = "15550002222"
SENT_OR_FURTHER = frozenset({"sent", "delivered", "read"})


def status_of(client: OpenWAClient, session_id: str) -> dict[str, Any]:
    session: dict[str, Any] = client.sessions.get(session_id)  # type: ignore[assignment]
    return session


def wait_status(client: OpenWAClient, session_id: str, status: str, timeout: float = 30.0) -> dict[str, Any]:
    seen: list[str] = []

    def probe() -> dict[str, Any] | None:
        session = status_of(client, session_id)
        if not seen or seen[-1] != session["status"]:
            seen.append(session["status"])
        return session if session["status"] == status else None

    try:
        found: dict[str, Any] = wait_for(probe, timeout, f"session {session_id} to be {status}")
    except pytest.fail.Exception:
        pytest.fail(f"session {session_id} not {status} within {timeout:.0f} s; statuses seen: {seen}")
    return found


def raw_qr(stack: Stack, session_id: str) -> str:
    response = httpx.get(
        f"{stack.api_url}/api/sessions/{session_id}/qr",
        params={"format": "raw"},
        headers={"X-API-Key": stack.master_key},
        timeout=10.0,
    )
    response.raise_for_status()
    raw: str = response.json()["raw"]
    return raw


def send_text(client: OpenWAClient, session_id: str, to: str, text: str, *, queue: bool = False) -> str:
    """Send a text through the API (`POST .../messages/send-text`); the accepted message's id. With `queue`,
    a session that is not ready takes the send and makes it once ready (without: 409 SESSION_NOT_READY)."""
    body: Any = {"chatId": to, "text": text}  # Any: `queue` is ours, the SDK's SendTextRequest lacks it
    if queue:
        body["queue"] = True
    accepted = client.messages.send_text(session_id, body)
    message_id: str = accepted["messageId"]
    return message_id


def message_record(stack: Stack, session_id: str, message_id: str) -> dict[str, Any]:
    """The stored message as the API shows it (`GET .../messages/<chat>/<id>`): status, ack, error..."""
    chat = message_id.split("_")[1]
    response = httpx.get(
        f"{stack.api_url}/api/sessions/{session_id}/messages/{chat}/{message_id}",
        headers={"X-API-Key": stack.master_key},
        timeout=10.0,
    )
    response.raise_for_status()
    record: dict[str, Any] = response.json()
    return record


def wait_message_status(
    stack: Stack, session_id: str, message_id: str, statuses: Collection[str], timeout: float = 20.0
) -> dict[str, Any]:
    """The message's record once its status is one of `statuses`."""

    def probe() -> dict[str, Any] | None:
        record = message_record(stack, session_id, message_id)
        return record if record["status"] in statuses else None

    found: dict[str, Any] = wait_for(probe, timeout, f"message {message_id} to be {'/'.join(statuses)}")
    return found


def inbox(stack: Stack, number: str) -> list[dict[str, Any]]:
    """What phone `number` received, oldest first (ids as the phone sees them: `false_<sender>_<ID>`)."""
    received: list[dict[str, Any]] = stack.control("GET", f"/phones/{number}/messages")
    return received


def announced(stack: Stack, session_id: str, event: str) -> Counter[str]:
    """How many `event` events (`message.sent`, `message.failed`...) the session published per message id."""
    return Counter(data["id"] for name, data in stack.events(session_id) if name == event)


def wait_announced(
    stack: Stack, session_id: str, event: str, message_ids: Collection[str], timeout: float = 10.0
) -> Counter[str]:
    """`announced` once every message in `message_ids` has its `event` (published just after its record
    changed, so possibly a moment after the record is seen changed)."""

    def probe() -> Counter[str] | None:
        counts = announced(stack, session_id, event)
        return counts if all(counts[message_id] for message_id in message_ids) else None

    found: Counter[str] = wait_for(probe, timeout, f"{event} for {len(message_ids)} message(s)")
    return found


def test_qr_link_then_text_then_stop_start_without_qr_then_logout_needs_qr(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    stack.control("POST", "/phones", json={"number": BOB, "name": "Bob"})
    stack.start_runner("runner-a")
    session_id = client.sessions.create({"name": "alice"})["id"]

    started = time.monotonic()
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    print(f"start -> qr_ready: {time.monotonic() - started:.2f} s")
    assert client.sessions.get_qr_code(session_id)["qrCode"].startswith("data:image/png;base64,")
    stack.control("POST", f"/phones/{PHONE}/link", json={"qr": raw_qr(stack, session_id)})
    ready = wait_status(client, session_id, "ready")
    assert (ready["phone"], ready["pushName"], ready["engineLoaded"]) == (PHONE, "Alice", True)

    message_id = send_text(client, session_id, BOB, "hello Bob")
    assert message_id.startswith(f"true_{BOB}@c.us_3EB0")
    delivered = wait_for(lambda: inbox(stack, BOB), 20, "the text in Bob's inbox")
    # The phone sees the message from its side: `false_<sender>_<ID>` for our `true_<chat>_<ID>`.
    assert [(m["id"].rsplit("_", 1)[1], m["body"]) for m in delivered] == [
        (message_id.rsplit("_", 1)[1], "hello Bob")
    ]
    wait_message_status(stack, session_id, message_id, SENT_OR_FURTHER)
    assert wait_announced(stack, session_id, "message.sent", [message_id]) == {message_id: 1}

    # Inbound traffic arrives while the session's queue worker sits idle (DESIGN §1.4).
    stack.control("POST", f"/phones/{BOB}/messages", json={"to": f"{PHONE}@c.us", "text": "hi Alice"})
    received = wait_for(
        lambda: [data for name, data in stack.events(session_id) if name == "message.received"],
        10,
        "message.received",
    )
    assert (received[0]["from"], received[0]["body"]) == (f"{BOB}@c.us", "hi Alice")

    client.sessions.stop(session_id)
    wait_for(lambda: not status_of(client, session_id)["engineLoaded"], 40, "the engine to unload")
    started = time.monotonic()
    client.sessions.start(session_id)
    seen = set()
    while (status := status_of(client, session_id)["status"]) != "ready":
        seen.add(status)
        assert time.monotonic() - started < 30, f"not ready again (statuses seen: {seen})"
        time.sleep(0.05)
    print(f"restore -> ready: {time.monotonic() - started:.2f} s")
    assert "qr_ready" not in seen

    client.sessions.logout(session_id)
    after = status_of(client, session_id)
    assert (after["status"], after["phone"]) == ("disconnected", None)
    wait_for(lambda: not status_of(client, session_id)["engineLoaded"], 40, "the engine to unload")
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")


def test_pairing_code_links_the_session(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    stack.start_runner("runner-a")
    session_id = client.sessions.create({"name": "paired"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")

    code = client.sessions.request_pairing_code(session_id, {"phoneNumber": f"+{PHONE}"})["pairingCode"]
    assert len(code.replace("-", "")) == 8
    stack.control("POST", f"/phones/{PHONE}/link", json={"pairingCode": code})
    assert wait_status(client, session_id, "ready")["phone"] == PHONE


def test_restart_comes_back_ready_and_force_kill_unloads_the_engine(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    stack.start_runner("runner-a")
    session_id = client.sessions.create({"name": "restarted"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{PHONE}/link", json={"qr": raw_qr(stack, session_id)})
    connected = wait_status(client, session_id, "ready")["connectedAt"]

    response = httpx.post(
        f"{stack.api_url}/api/sessions/{session_id}/restart", headers={"X-API-Key": stack.master_key}
    )
    assert response.status_code in (200, 201)
    wait_for(
        lambda: (s := status_of(client, session_id))["status"] == "ready" and s["connectedAt"] != connected,
        30,
        "the restarted session to be ready again",
    )

    client.sessions.force_kill(session_id)
    wait_for(lambda: not status_of(client, session_id)["engineLoaded"], 10, "the engine to be killed")
    assert status_of(client, session_id)["status"] == "disconnected"
