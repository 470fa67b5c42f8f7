"""Linking the WhatsApp Web double: QR codes, pairing codes, coming back linked from stored credentials."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page

from tests.sandbox.conftest import SandboxClient, current_qr, link_by_qr, wait_event

B64_KEY = r"[A-Za-z0-9+/]{43}="
QR_FORMAT = re.compile(rf"^2@[A-Za-z0-9+/=]+,{B64_KEY},{B64_KEY},{B64_KEY}$")
PAIRING_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"


def test_page_shows_a_qr_that_rotates_and_old_codes_stop_working(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    sandbox.phone("15550000001", "Alice")
    page = open_page()
    first = current_qr(page)
    assert QR_FORMAT.match(first), first
    assert page.get_attribute("#qr", "src", timeout=5000).startswith("data:image/svg+xml")  # type: ignore[union-attr]
    rotated = wait_event(page, "conn.auth_code_change", f"args[0] && args[0].fullCode !== {first!r}", 5000)
    assert rotated[0]["type"] == "multidevice"
    assert rotated[0]["fullCode"].split(",")[0] == rotated[0]["ref"]
    stale = sandbox.http.post("/_sandbox/phones/15550000001/link", json={"qr": first})
    assert stale.status_code == 400
    assert "expired" in stale.json()["message"]
    assert page.evaluate("() => WPP.conn.isAuthenticated()") is False


def test_link_by_qr_goes_through_auth_code_authenticated_and_main_ready(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    sandbox.phone("15550000001", "Alice")
    page = open_page()
    link_by_qr(page, sandbox, "15550000001")
    names = [event["name"] for event in page.evaluate("window.__events")]
    cleared = max(
        i for i, e in enumerate(page.evaluate("window.__events")) if e["name"] == "conn.auth_code_change"
    )
    assert page.evaluate("window.__events")[cleared]["args"] == [None]
    assert cleared < names.index("conn.authenticated") < names.index("conn.main_ready")
    assert page.evaluate("() => WPP.conn.getMyUserId()._serialized") == "15550000001@c.us"
    assert page.evaluate("() => WPP.profile.getMyProfileName()") == "Alice"
    assert sandbox.get("/_sandbox/phones/15550000001")["devices"] == ["15550000001:1@c.us"]


def test_link_by_pairing_code(sandbox: SandboxClient, open_page: Callable[..., Page]) -> None:
    sandbox.phone("15550000002", "Bob")
    page = open_page()
    current_qr(page)
    code = page.evaluate("() => WPP.conn.genLinkDeviceCodeForPhoneNumber('+15550000002', false)")
    assert len(code) == 8
    assert set(code) <= set(PAIRING_ALPHABET)
    wrong = sandbox.http.post("/_sandbox/phones/15550000002/link", json={"pairingCode": "ZZZZZZZZ"})
    assert wrong.status_code == 400
    sandbox.post("/_sandbox/phones/15550000002/link", {"pairingCode": f"{code[:4]}-{code[4:]}"})
    wait_event(page, "conn.main_ready")
    assert page.evaluate("() => WPP.conn.getMyUserId()._serialized") == "15550000002@c.us"


def test_context_restored_from_storage_state_is_linked_without_a_qr(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    sandbox.phone("15550000001", "Alice")
    sandbox.phone("15550000002", "Bob")
    page = open_page()
    link_by_qr(page, sandbox, "15550000001")
    snapshot = page.context.storage_state(indexed_db=True)
    page.context.close()
    # While the browser is away, Bob writes; the restored page must have it.
    sent = sandbox.post(
        "/_sandbox/phones/15550000002/messages", {"to": "15550000001", "text": "while away"}, 201
    )

    restored = open_page(storage_state=snapshot)
    restored.wait_for_function("() => WPP.conn.isMainReady()", timeout=10_000)
    assert restored.evaluate("() => WPP.conn.getAuthCode()") is None
    assert restored.evaluate("() => WPP.conn.getMyUserId()._serialized") == "15550000001@c.us"
    history = restored.evaluate("() => WPP.chat.getMessages('15550000002@c.us', {count: -1})")
    assert [m["id"]["_serialized"] for m in history] == [f"false_15550000002@c.us_{sent['stanzaId']}"]

    fresh = open_page()
    assert QR_FORMAT.match(current_qr(fresh))
    assert fresh.evaluate("() => WPP.conn.isAuthenticated()") is False
