"""Stories of one session driven through the OpenWA SDK, held by a real runner on the sandbox."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from openwa import OpenWAClient

from functions.queueing import SessionJob, enqueue_session_job
from tests.runner.conftest import Stack, wait_for

pytestmark = pytest.mark.e2e

PHONE = "15550001111"


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


def send_text(stack: Stack, session_id: str, to: str, text: str, message_id: str | None = None) -> Any:
    """What the messaging API will do: a send job on the session's queue; waits for its result."""
    conn = stack.redis()
    job = enqueue_session_job(conn, session_id, SessionJob.SEND, f"{to}@c.us", text, message_id)
    return wait_for(lambda: job.return_value(refresh=True), 20, "the send job's result")


def test_qr_link_then_text_then_stop_start_without_qr_then_logout_needs_qr(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    stack.control("POST", "/phones", json={"number": "15550002222", "name": "Bob"})
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

    sent = send_text(stack, session_id, "15550002222", "hello Bob")
    inbox = stack.control("GET", "/phones/15550002222/messages")
    # The phone sees the message from its side: `false_<sender>_<ID>` for our `true_<chat>_<ID>`.
    assert [(m["id"].rsplit("_", 1)[1], m["body"]) for m in inbox] == [
        (sent["id"].rsplit("_", 1)[1], "hello Bob")
    ]

    # Inbound traffic arrives while the session's queue worker sits idle (DESIGN §1.4).
    stack.control("POST", "/phones/15550002222/messages", json={"to": f"{PHONE}@c.us", "text": "hi Alice"})
    received = wait_for(
        lambda: [data for name, data in stack.events(session_id) if name == "message.received"],
        10,
        "message.received",
    )
    assert (received[0]["from"], received[0]["body"]) == ("15550002222@c.us", "hi Alice")

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
