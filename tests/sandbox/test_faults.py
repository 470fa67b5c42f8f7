"""Faults injected through the control API produce what WhatsApp Web would show the page."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from tests.sandbox.conftest import ALICE, BOB, SandboxClient, wait_event


def test_disconnect_goes_offline_then_back_online_without_losing_messages(
    alice: Page, sandbox: SandboxClient
) -> None:
    sandbox.post("/_sandbox/faults", {"number": ALICE, "kind": "disconnect", "ms": 2500}, 201)
    wait_event(alice, "conn.online", "args[0] === false")
    sent = sandbox.post(f"/_sandbox/phones/{BOB}/messages", {"to": ALICE, "text": "during the outage"}, 201)
    wait_event(alice, "conn.online", "args[0] === true", timeout=10_000)
    decrypted = f"args[0].id.id === {sent['stanzaId']!r} && args[0].type !== 'ciphertext'"
    got = wait_event(alice, "chat.new_message", decrypted)
    assert got[0]["body"] == "during the outage"
    assert alice.evaluate("() => WPP.conn.isMainReady()") is True


def test_logout_from_the_phone_fires_logout_wipes_credentials_and_shows_a_new_qr(
    alice: Page, sandbox: SandboxClient
) -> None:
    sandbox.post("/_sandbox/faults", {"number": ALICE, "kind": "logout"}, 201)
    wait_event(alice, "conn.logout")
    wait_event(alice, "conn.auth_code_change", "args[0] !== null && args[0].fullCode")
    # The logout reloads the page: its WPP may still be being injected when the new QR's event is read.
    alice.wait_for_function("() => window.WPP && WPP.conn && WPP.conn.isAuthenticated() === false")
    assert alice.evaluate("() => localStorage.getItem('last-wid-md')") is None
    state = alice.context.storage_state(indexed_db=True)
    stored = [db for origin in state["origins"] for db in origin.get("indexedDB", [])]
    assert all(not store["records"] for db in stored for store in db["stores"])
    assert sandbox.get(f"/_sandbox/phones/{ALICE}")["devices"] == []


def test_ack_delay_holds_the_delivered_ack(alice: Page, sandbox: SandboxClient) -> None:
    sandbox.post("/_sandbox/faults", {"number": BOB, "kind": "ack_delay", "ms": 800}, 201)
    started = time.monotonic()
    result = alice.evaluate("() => WPP.chat.sendTextMessage('15550000002@c.us', 'slow')")
    assert result["ack"] == 1
    wait_event(alice, "chat.msg_ack_change", "args[0].ack === 2")
    assert time.monotonic() - started >= 0.8


@pytest.mark.parametrize("code", [463, 475])
def test_whatsapp_error_fails_the_send_as_wa_js_reports_it(
    alice: Page, sandbox: SandboxClient, code: int
) -> None:
    # wa-js's sendMsgResult is {messageSendResult, t, count} (whatsapp/types.d.ts): WhatsApp's error code is
    # not in it, and chat.msg_ack_change never fires for ack -1; the message's ack says it failed.
    alice.evaluate(
        "() => { window.__acks = []; WPP.on('chat.msg_ack_change', (e) => window.__acks.push(e.ack)); }"
    )
    sandbox.post("/_sandbox/faults", {"number": ALICE, "kind": f"error_{code}", "count": 1}, 201)
    failed = alice.evaluate("() => WPP.chat.sendTextMessage('15550000002@c.us', 'to a new contact')")
    assert failed["ack"] == -1
    result = failed["sendMsgResult"]
    assert set(result) == {"messageSendResult", "t", "count"}
    assert result["messageSendResult"] == "ERROR_UNKNOWN"
    assert sandbox.inbox(BOB) == []
    time.sleep(0.3)
    assert -1 not in alice.evaluate("() => window.__acks")
    if code == 475:  # a ToS block bans the account: WhatsApp Web's stream mode says so
        wait_event(alice, "conn.stream_mode_changed", "args[0] === 'TOS_BLOCK'")
        return
    ok = alice.evaluate("() => WPP.chat.sendTextMessage('15550000002@c.us', 'after the fault')")  # count: 1
    assert ok["sendMsgResult"]["messageSendResult"] == "OK"
