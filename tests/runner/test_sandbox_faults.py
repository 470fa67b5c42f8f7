"""What a session does when WhatsApp misbehaves (faults injected through the sandbox control API)."""

from __future__ import annotations

import json

import pytest
from openwa import OpenWAClient

from tests.runner.conftest import Stack, wait_for
from tests.runner.test_session_lifecycle import (
    BOB,
    PHONE,
    announced,
    inbox,
    raw_qr,
    send_text,
    status_of,
    wait_announced,
    wait_message_status,
    wait_status,
)

pytestmark = pytest.mark.e2e


def linked_session(stack: Stack, client: OpenWAClient, name: str) -> str:
    """A session linked to the phone PHONE (Alice) and ready, on a fresh runner."""
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    stack.control("POST", "/phones", json={"number": BOB, "name": "Bob"})
    stack.start_runner("runner-a")
    session_id: str = client.sessions.create({"name": name})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{PHONE}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    return session_id


def test_a_dropped_connection_is_disconnected_then_ready_again(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    session_id = linked_session(stack, client, "flaky")
    stack.control("POST", "/faults", json={"number": PHONE, "kind": "disconnect", "ms": 2000})
    wait_status(client, session_id, "disconnected", timeout=10)
    assert wait_status(client, session_id, "ready", timeout=20)["engineLoaded"]
    names = [name for name, _ in stack.events(session_id)]
    assert "session.disconnected" in names
    assert names[-1] == "session.status"


def test_logout_from_the_phone_disconnects_and_wipes_credentials(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    session_id = linked_session(stack, client, "unlinked")
    manifest = stack.workdir / "data/storage/objects/auth" / session_id / "manifest.json"
    wait_for(manifest.exists, 10, "the auth snapshot after linking")

    stack.control("POST", "/faults", json={"number": PHONE, "kind": "logout"})
    session = wait_status(client, session_id, "disconnected", timeout=15)
    assert session["phone"] is None
    wait_for(lambda: not status_of(client, session_id)["engineLoaded"], 40, "the engine to unload")
    # The credentials are gone; the session's mirror stays (for `openwa recover`), no longer wanted running.
    assert [path.name for path in manifest.parent.iterdir()] == ["manifest.json"]
    left = json.loads(manifest.read_bytes())
    assert (left["state_key"], left["session"]["desiredState"]) == (None, "stopped")
    assert status_of(client, session_id)["status"] == "disconnected"
    assert ("session.disconnected", {"sessionId": session_id, "reason": "logged out from the phone"}) in (
        stack.events(session_id)
    )


def test_error_463_on_send_fails_the_send_without_claiming_a_restriction(fresh_stack: Stack) -> None:
    # wa-js reports a refused send as sendMsgResult.messageSendResult (ERROR_*) and the message's ack -1;
    # WhatsApp's code (463, a reach-out time lock) reaches neither, so the send fails and nothing more is
    # claimed. Until the fix the engine read an `errorCode` only the sandbox sent.
    stack, client = fresh_stack, fresh_stack.client()
    session_id = linked_session(stack, client, "restricted")
    stack.control("POST", "/faults", json={"number": PHONE, "kind": "error_463", "count": 1})

    message_id = send_text(client, session_id, BOB, "hello?")
    failed = wait_message_status(stack, session_id, message_id, {"failed"})
    assert (failed["ack"], failed["error"]["code"]) == (-1, "SEND_FAILED")
    assert "ERROR_UNKNOWN" in failed["error"]["message"]
    assert wait_announced(stack, session_id, "message.failed", [message_id]) == {message_id: 1}
    assert announced(stack, session_id, "message.sent") == {}
    assert inbox(stack, BOB) == []
    assert [name for name, _ in stack.events(session_id) if name == "session.restriction"] == []


def test_error_475_fails_the_send_and_the_tos_block_stream_mode_reports_the_restriction(
    fresh_stack: Stack,
) -> None:
    # A ToS block reaches WhatsApp Web as stream mode TOS_BLOCK (wa-js StreamMode.ts), not as a send result.
    stack, client = fresh_stack, fresh_stack.client()
    session_id = linked_session(stack, client, "banned")
    stack.control("POST", "/faults", json={"number": PHONE, "kind": "error_475", "count": 1})

    message_id = send_text(client, session_id, BOB, "hello?")
    failed = wait_message_status(stack, session_id, message_id, {"failed"})
    assert (failed["ack"], failed["error"]["code"]) == (-1, "SEND_FAILED")
    assert announced(stack, session_id, "message.sent") == {}
    restriction = {"active": True, "kind": "tos_block", "code": None, "expiresAt": None}
    wait_for(
        lambda: ("session.restriction", {"sessionId": session_id, **restriction}) in stack.events(session_id),
        15,
        "the tos_block restriction",
    )
    assert status_of(client, session_id)["restriction"]["kind"] == "tos_block"


def test_a_slow_media_upload_is_not_failed_while_the_page_still_delivers_it(fresh_stack: Stack) -> None:
    # wa-js waits for the server's ack by default (waitForAck), and a media upload can take longer than a
    # text's browser deadline (25 s). The engine keeps waitForAck (a refusal shows only in the send's result:
    # ack -1 is never an event), so a media send gets a longer deadline instead: it ends `sent`, not failed.
    stack, client = fresh_stack, fresh_stack.client()
    session_id = linked_session(stack, client, "slow-upload")
    stack.control("POST", "/faults", json={"number": PHONE, "kind": "slow_upload", "ms": 28_000, "count": 1})
    dot = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    accepted = client.messages.send_image(session_id, {"chatId": BOB, "base64": dot, "mimetype": "image/png"})
    message_id = accepted["messageId"]
    done = wait_message_status(stack, session_id, message_id, {"sent", "delivered", "read", "failed"}, 60)
    assert done["status"] != "failed", done["error"]
    assert [m["type"] for m in inbox(stack, BOB)] == ["image"]
    assert announced(stack, session_id, "message.failed") == {}
