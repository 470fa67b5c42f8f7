"""Linking the WhatsApp Web double: QR codes, pairing codes, coming back linked from stored credentials."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Playwright

from runner.engines.webjs import profile
from runner.sandbox.ids import lid_of
from tests.sandbox.conftest import SandboxClient, current_qr, link_by_qr, wait_event, wait_linked
from tests.sandbox.profiles import open_profile

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


def test_the_qr_screen_fires_main_ready_once_and_is_not_registered(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    # wa-js registerMainReadyEvent.ts emits conn.main_ready for stream mode QR as well as MAIN (#3339), once
    # per page load, and isMainReady() then stays true: a client must not read "ready" from it.
    page = open_page()
    current_qr(page)
    wait_event(page, "conn.main_ready")
    page.wait_for_timeout(1500)  # past a QR rotation (1 s here): still one main_ready
    names = [event["name"] for event in page.evaluate("window.__events")]
    assert names.count("conn.main_ready") == 1
    assert names.index("conn.stream_mode_changed") < names.index("conn.main_ready")
    assert page.evaluate("() => WPP.conn.isMainReady()") is True
    assert page.evaluate("() => WPP.conn.isRegistered()") is False
    assert page.evaluate("() => WPP.conn.getStreamData().mode") == "QR"


def test_link_by_qr_clears_the_code_reloads_the_page_and_comes_up_registered_in_main(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    sandbox.phone("15550000001", "Alice")
    page = open_page()
    link_by_qr(page, sandbox, "15550000001")
    events = page.evaluate("window.__events")
    names = [event["name"] for event in events]
    cleared = max(i for i, e in enumerate(events) if e["name"] == "conn.auth_code_change")
    assert events[cleared]["args"] == [None]
    # WhatsApp Web reloads after linking (whatsapp-web.js #3792): the page that comes up is a new document,
    # registered from its first moment, so wa-js fires no conn.authenticated (registerAuthenticatedEvent.ts).
    assert page.evaluate("() => performance.getEntriesByType('navigation')[0].type") == "reload"
    assert "conn.authenticated" not in names
    modes = [e["args"][0] for e in events[cleared:] if e["name"] == "conn.stream_mode_changed"]
    assert modes[-1] == "MAIN"
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
    wait_linked(page)
    assert page.evaluate("() => WPP.conn.getMyUserId()._serialized") == "15550000002@c.us"


def test_a_restored_profile_comes_back_linked_without_a_qr(
    sandbox: SandboxClient, open_page: Callable[..., Page], playwright: Playwright, tmp_path: Path
) -> None:
    sandbox.phone("15550000001", "Alice")
    sandbox.phone("15550000002", "Bob")
    context, page = open_profile(playwright, tmp_path / "first", sandbox.url)
    link_by_qr(page, sandbox, "15550000001")
    context.close()  # as the engine stops; Chromium writes pending localStorage on close
    files = profile.archive(tmp_path / "first")
    # While the browser is away, Bob writes; the restored page must have it.
    sent = sandbox.post(
        "/_sandbox/phones/15550000002/messages", {"to": "15550000001", "text": "while away"}, 201
    )

    profile.restore(tmp_path / "second", files)
    context, restored = open_profile(playwright, tmp_path / "second", sandbox.url)
    try:
        wait_linked(restored)
        assert restored.evaluate("() => WPP.conn.getAuthCode()") is None
        assert restored.evaluate("() => WPP.conn.getMyUserId()._serialized") == "15550000001@c.us"
        history = restored.evaluate("() => WPP.chat.getMessages('15550000002@c.us', {count: -1})")
        assert [m["id"]["_serialized"] for m in history] == [
            f"false_{lid_of('15550000002')}_{sent['stanzaId']}"
        ]
    finally:
        context.close()

    fresh = open_page()
    assert QR_FORMAT.match(current_qr(fresh))
    assert fresh.evaluate("() => WPP.conn.isAuthenticated()") is False


def test_a_context_restored_from_storage_state_comes_back_unlinked_and_shows_a_qr(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    # As on WhatsApp Web: the device record comes back, but the CryptoKey that seals its token does not
    # (Playwright serializes a CryptoKey as an empty object, #35946), so the page must link again.
    sandbox.phone("15550000001", "Alice")
    page = open_page()
    link_by_qr(page, sandbox, "15550000001")
    snapshot: Any = page.context.storage_state(indexed_db=True)  # JSON; its typing lacks `indexedDB`
    page.context.close()
    databases = {db["name"]: db for origin in snapshot["origins"] for db in origin.get("indexedDB", [])}
    assert any(store["records"] for store in databases["wawc"]["stores"])

    restored = open_page(storage_state=snapshot)
    assert QR_FORMAT.match(current_qr(restored))
    assert restored.evaluate("() => WPP.conn.isRegistered()") is False


def test_the_qr_goes_idle_after_its_rotations_and_refresh_qr_brings_one_that_links(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    # WhatsApp Web stops rotating after a few codes ("Click to reload QR code"): the socket is UNPAIRED_IDLE,
    # wa-js says conn.qrcode_idle, and the last code no longer links until WPP.conn.refreshQR().
    sandbox.phone("15550000001", "Alice")
    sandbox.http.put("/_sandbox/settings", json={"qrRotations": 2}).raise_for_status()
    page = open_page()
    last = wait_event(page, "conn.auth_code_change", "args[0] && args[0].fullCode", 5000)[0]["fullCode"]
    wait_event(page, "conn.qrcode_idle", timeout=5000)
    assert page.evaluate("() => WPP.conn.isIdle()") is True
    assert page.evaluate("() => WPP.conn.getAuthCode()") is None
    stale = sandbox.http.post("/_sandbox/phones/15550000001/link", json={"qr": last})
    assert stale.status_code == 400
    fresh = page.evaluate("() => WPP.conn.refreshQR().then((code) => code.fullCode)")
    assert QR_FORMAT.match(fresh)
    assert page.evaluate("() => WPP.conn.isIdle()") is False
    sandbox.post("/_sandbox/phones/15550000001/link", {"qr": fresh})
    wait_linked(page)


def test_a_pairing_code_expires_and_the_link_code_lifecycle_replaces_it_in_time(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    # WhatsApp's pairing codes expire (about 3.25 min); wa-js's startLinkDeviceCodeForPhoneNumber replaces a
    # code before it does (conn.link_code_change), genLinkDeviceCodeForPhoneNumber does not.
    sandbox.phone("15550000002", "Bob")
    sandbox.http.put("/_sandbox/settings", json={"pairingCodeSeconds": 1.5}).raise_for_status()
    page = open_page()
    current_qr(page)
    once = page.evaluate("() => WPP.conn.genLinkDeviceCodeForPhoneNumber('15550000002', false)")
    page.wait_for_timeout(1700)
    expired = sandbox.http.post("/_sandbox/phones/15550000002/link", json={"pairingCode": once})
    assert expired.status_code == 400
    assert expired.json()["error"] == "code_expired"
    first = page.evaluate("() => WPP.conn.startLinkDeviceCodeForPhoneNumber('15550000002', false)")
    replaced = wait_event(page, "conn.link_code_change", f"args[0] !== {first!r}", 5000)[0]
    page.wait_for_timeout(500)  # past the first code's lifetime: only the replacement links
    assert (
        sandbox.http.post("/_sandbox/phones/15550000002/link", json={"pairingCode": first}).status_code == 400
    )
    sandbox.post("/_sandbox/phones/15550000002/link", {"pairingCode": replaced})
    wait_linked(page)
