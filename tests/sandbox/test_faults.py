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
    got = wait_event(alice, "chat.new_message", f"args[0].id.id === {sent['stanzaId']!r}")
    assert got[0]["body"] == "during the outage"
    assert alice.evaluate("() => WPP.conn.isMainReady()") is True


def test_logout_from_the_phone_fires_logout_wipes_credentials_and_shows_a_new_qr(
    alice: Page, sandbox: SandboxClient
) -> None:
    sandbox.post("/_sandbox/faults", {"number": ALICE, "kind": "logout"}, 201)
    wait_event(alice, "conn.logout")
    wait_event(alice, "conn.auth_code_change", "args[0] !== null && args[0].fullCode")
    assert alice.evaluate("() => WPP.conn.isAuthenticated()") is False
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
def test_whatsapp_error_fails_the_send_with_its_code(alice: Page, sandbox: SandboxClient, code: int) -> None:
    sandbox.post("/_sandbox/faults", {"number": ALICE, "kind": f"error_{code}", "count": 1}, 201)
    failed = alice.evaluate("() => WPP.chat.sendTextMessage('15550000002@c.us', 'to a new contact')")
    assert failed["ack"] == -1
    assert failed["sendMsgResult"] == {
        "messageSendResult": "ERROR_UNKNOWN",
        "t": failed["sendMsgResult"]["t"],
        "errorCode": code,
    }
    event = wait_event(alice, "chat.msg_ack_change", "args[0].ack === -1")
    assert event[0]["ids"][0]["_serialized"] == failed["id"]
    assert sandbox.inbox(BOB) == []
    ok = alice.evaluate("() => WPP.chat.sendTextMessage('15550000002@c.us', 'after the fault')")  # count: 1
    assert ok["sendMsgResult"]["messageSendResult"] == "OK"
