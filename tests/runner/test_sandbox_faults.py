"""What a session does when WhatsApp misbehaves (faults injected through the sandbox control API)."""

from __future__ import annotations

import json

import pytest
from openwa import OpenWAClient
from rq.job import JobStatus

from functions.queueing import SessionJob, enqueue_session_job
from tests.runner.conftest import Stack, wait_for
from tests.runner.test_session_lifecycle import PHONE, raw_qr, status_of, wait_status

pytestmark = pytest.mark.e2e

BOB = "15550002222"


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


def test_error_463_on_send_fails_the_send_and_reports_a_restriction(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    session_id = linked_session(stack, client, "restricted")
    stack.control("POST", "/faults", json={"number": PHONE, "kind": "error_463", "count": 1})

    job = enqueue_session_job(stack.redis(), session_id, SessionJob.SEND, f"{BOB}@c.us", "hello?")
    wait_for(lambda: job.get_status(refresh=True) == JobStatus.FAILED, 20, "the send to fail")
    restriction = {"active": True, "kind": "reachout_timelock", "code": 463, "expiresAt": None}
    assert ("session.restriction", {"sessionId": session_id, **restriction}) in stack.events(session_id)
    assert status_of(client, session_id)["restriction"]["kind"] == "reachout_timelock"
