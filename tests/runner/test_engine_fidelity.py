"""The engine against a sandbox as strict as WhatsApp Web + wa-js (issue: engine fidelity).

Each story here failed on the engine that only knew the kind sandbox: the page has WhatsApp's CSP and no
`WPP` of its own, `conn.main_ready` fires on the QR screen, the page reloads after linking and navigates to
`?post_logout=1` after a logout, and it reports what it can see of its client (user agent,
`navigator.webdriver`, analytics beacons). `docs/engine-fidelity.md` maps every behaviour to its test.
"""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from tests.runner.conftest import CHROMIUM, Stack, wait_for
from tests.runner.test_session_lifecycle import raw_qr, send_text, wait_status

pytestmark = pytest.mark.e2e

ALICE, BOB = "15550007001", "15550007002"


def _phones(stack: Stack) -> None:
    for number, name in ((ALICE, "Alice"), (BOB, "Bob")):
        stack.control("POST", "/phones", json={"number": number, "name": name})


def _statuses(stack: Stack, session_id: str) -> list[str]:
    return [data["status"] for name, data in stack.events(session_id) if name == "session.status"]


def _linked_session(stack: Stack, name: str) -> str:
    client = stack.client()
    session_id: str = client.sessions.create({"name": name})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{ALICE}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    return session_id


def test_a_session_showing_its_qr_stays_qr_ready_although_main_ready_fired(fresh_stack: Stack) -> None:
    # wa-js emits conn.main_ready for stream mode QR too (registerMainReadyEvent.ts): an engine that took it
    # for "ready" reported a session nobody had linked as ready, with no phone.
    stack = fresh_stack
    _phones(stack)
    stack.start_runner("runner-fidelity")
    client = stack.client()
    session_id = client.sessions.create({"name": "qr-screen"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    time.sleep(3)  # main_ready has long fired by now; the status must not move
    session = client.sessions.get(session_id)
    assert session["status"] == "qr_ready"
    assert "ready" not in _statuses(stack, session_id)
    assert not session.get("phone")


def test_the_engine_links_through_a_page_that_forbids_inline_scripts_and_reloads_after_linking(
    fresh_stack: Stack,
) -> None:
    # The sandbox page has WhatsApp Web's CSP (no inline script) and no WPP of its own: the engine must
    # inject its WPP (wa-js there, the double here) around the CSP, and again after the reload that follows
    # the link. Then a send works, and the status went qr_ready -> authenticating -> ready, never ready early.
    stack = fresh_stack
    _phones(stack)
    stack.start_runner("runner-fidelity")
    session_id = _linked_session(stack, "csp")
    statuses = _statuses(stack, session_id)
    assert statuses.index("qr_ready") < statuses.index("authenticating") < statuses.index("ready")
    message_id = send_text(stack.client(), session_id, f"{BOB}@c.us", "through the CSP")
    received = wait_for(
        lambda: [
            m for m in stack.control("GET", f"/phones/{BOB}/messages") if m["body"] == "through the CSP"
        ],
        15,
        "Bob to receive the text",
    )
    assert received[0]["stanzaId"] == message_id.rsplit("_", 1)[-1]


def test_the_browser_shows_its_real_version_is_not_marked_automated_and_sends_no_analytics(
    fresh_stack: Stack,
) -> None:
    # wa-js sends Google Analytics beacons about the account unless WPPConfig.disableGoogleAnalytics is set
    # before it loads; navigator.webdriver and a user agent naming another Chrome than the one running are
    # what automation detection looks at first.
    stack = fresh_stack
    _phones(stack)
    stack.start_runner("runner-fidelity")
    _linked_session(stack, "fingerprint")
    [device] = stack.control("GET", "/devices")
    major = re.search(
        r"(\d+)\.\d+\.\d+\.\d+",
        subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout,
    )
    assert major is not None
    assert f"Chrome/{major.group(1)}.0.0.0 " in device["client"]["userAgent"]
    assert "Headless" not in device["client"]["userAgent"]
    assert device["client"]["webdriver"] is False
    assert stack.control("GET", "/analytics") == []


def test_a_received_message_is_recorded_once_decrypted_not_as_its_ciphertext_placeholder(
    fresh_stack: Stack,
) -> None:
    # WhatsApp Web announces a received message twice: first a `ciphertext` placeholder without content,
    # then decrypted (wa-js registerNewMessageEvent.ts). Recording the first made an empty message of type
    # "ciphertext", and the decrypted one was then dropped as already known.
    stack = fresh_stack
    _phones(stack)
    stack.start_runner("runner-fidelity")
    session_id = _linked_session(stack, "ciphertext")
    sent = stack.control("POST", f"/phones/{BOB}/messages", json={"to": ALICE, "text": "decrypt me"})

    def received() -> list[dict[str, object]]:
        return [data for name, data in stack.events(session_id) if name == "message.received"]

    [event] = wait_for(received, 15, "the message.received event")
    assert event["body"] == "decrypt me"
    assert event["type"] == "text"
    assert str(event["id"]).endswith(sent["stanzaId"])
    time.sleep(0.5)  # a second (placeholder-caused) announcement would have come by now
    assert len(received()) == 1
    records = stack.client().messages.list(session_id)["messages"]
    assert [(m["type"], m["body"]) for m in records if m["id"] == event["id"]] == [("text", "decrypt me")]
