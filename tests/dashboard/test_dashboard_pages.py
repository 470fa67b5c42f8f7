"""Every dashboard page at 1280 and 390 px, checked by axe-core, with screenshots kept; and the stories of the
session settings panel, the audit log, a webhook's delivery log and the sandbox's "Copy raw QR" button, in
real Chromium against a live `openwa up --sandbox`."""

# ruff: noqa: F811  (`ready_session`, the linked session of the UI stories, is imported as a fixture)
from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.dashboard.a11y import assert_accessible
from tests.dashboard.conftest import DESKTOP, PHONE, Gateway, Watched, shoot, sign_in
from tests.dashboard.test_dashboard_ui import (  # noqa: F401
    assert_clean,
    poll,
    raw_qr,
    ready_session,
)
from tests.integration.webhooks.conftest import Answer

pytestmark = pytest.mark.e2e

DAVE = "15550004444"
DASH = "\u2013"  # the page's ranges use an en dash
PROXY = "http://alice:s3cret@proxy.example.com:3128"


@pytest.fixture
def audited(browser: Browser, gateway: Gateway) -> Iterator[Page]:
    """A page whose CSP lets the test inject axe-core (`add_script_tag` writes an inline <script>, which the
    dashboard's CSP refuses, rightly). The CSP itself is exercised by every `watched` story."""
    context = browser.new_context(viewport=DESKTOP, base_url=gateway.base_url, bypass_csp=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Pages").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def session_card(page: Page, session_id: str) -> Locator:
    return page.locator(f"article.session[data-session-id='{session_id}']")


FORBIDDEN_LOG = "Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"


def watch_forbidden(watched: Watched) -> list[str]:
    """The URLs answered 403 from now on (the Overview asks for admin-only traffic, and says so on a 403)."""
    forbidden: list[str] = []
    watched.page.on("response", lambda response: response.status == 403 and forbidden.append(response.url))
    return forbidden


def drop_expected_forbidden(watched: Watched, forbidden: list[str]) -> None:
    """Only the Overview's traffic chart was refused: its console lines are expected, nothing else."""
    assert forbidden
    assert all("/api/stats/messages" in url for url in forbidden), forbidden
    watched.problems[:] = [problem for problem in watched.problems if problem != FORBIDDEN_LOG]


def qr_card(page: Page, gateway: Gateway, session_id: str, name: str) -> Locator:
    """Sign in, open Sessions, and wait for the session's card to show its QR code."""
    sign_in(page, gateway.master_key)
    nav(page, "Sessions")
    card = session_card(page, session_id)
    expect(card.get_by_role("img", name=f"QR code to link session {name}")).to_be_visible(timeout=30_000)
    return card


def check_page(page: Page, name: str) -> None:
    """At both widths: axe (no serious or critical violation), no sideways scrolling; then screenshots."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)  # pages that redraw on resize (debounced 200 ms)
        assert_accessible(page, f"{name} at {size['width']} px")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow} px wider than a {size['width']} px screen"
    page.set_viewport_size(DESKTOP)
    shoot(page, f"page-{name}")


def test_every_page_passes_axe_at_desktop_and_phone_widths(
    audited: Page, gateway: Gateway, ready_session: str
) -> None:
    page = audited
    gateway.api("PATCH", f"/api/sessions/{ready_session}/config", json={"autoRejectCalls": False})
    hook = gateway.api(
        "POST", f"/api/sessions/{ready_session}/webhooks", json={"url": gateway.receiver.url}
    ).json()
    gateway.api("POST", f"/api/sessions/{ready_session}/webhooks/{hook['id']}/test").raise_for_status()
    page.goto("/")
    expect(page.get_by_label("API key")).to_be_focused()
    check_page(page, "login")
    sign_in(page, gateway.master_key)
    expect(page.locator("#live-state")).to_have_text("live")

    nav(page, "Overview")
    check_page(page, "overview")
    nav(page, "Sessions")
    card = session_card(page, ready_session)
    expect(card.locator("[data-field=status]")).to_have_text("ready")
    check_page(page, "sessions")
    card.get_by_text("Settings", exact=True).click()
    expect(card.get_by_label("Reconnect attempts")).to_be_visible()
    expect(card.locator("[data-field=proxy]")).to_be_visible()
    check_page(page, "session-settings")
    if page.get_by_role("navigation", name="Pages").get_by_role("link", name="Chats").count():
        nav(page, "Chats")
        check_page(page, "chats")
    nav(page, "Groups")
    check_page(page, "groups")
    nav(page, "Webhooks")
    webhook = page.locator(f"article.webhook[data-webhook-id='{hook['id']}']")
    webhook.get_by_text("Delivery log").click()
    expect(webhook.locator("table")).to_be_visible()
    check_page(page, "webhooks")
    nav(page, "API keys")
    expect(page.locator("#page-keys tbody tr").first).to_be_visible()
    check_page(page, "keys")
    nav(page, "Audit log")
    expect(page.locator("#page-audit tbody tr").first).to_be_visible()
    check_page(page, "audit")
    gateway.api("DELETE", f"/api/sessions/{ready_session}/webhooks/{hook['id']}")

    # The check itself: a control without a name (axe `label`, critical) fails it.
    page.evaluate("document.querySelector('#page-audit').append(document.createElement('input'))")
    with pytest.raises(AssertionError, match="critical label"):
        assert_accessible(page, "a page with an unlabelled input")


def test_session_settings_are_saved_and_the_proxy_is_set_masked_and_cleared(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    page = watched.page
    sign_in(page, gateway.master_key)
    nav(page, "Sessions")
    card = session_card(page, ready_session)
    card.get_by_text("Settings", exact=True).click()
    try:
        card.get_by_label("Reconnect attempts").fill("7")
        card.get_by_label("Reconnect base delay (ms)").fill("4000")
        card.get_by_label("Reject incoming calls").check()
        card.get_by_role("button", name="Save settings").click()
        expect(page.locator(".toast").last).to_contain_text("Settings saved")
        config = gateway.api("GET", f"/api/sessions/{ready_session}/config").json()
        assert config == {"maxReconnectAttempts": 7, "reconnectBaseDelay": 4000, "autoRejectCalls": True}

        card.get_by_label("Reconnect attempts").fill("")  # empty: unlimited (null)
        card.get_by_role("button", name="Save settings").click()
        expect(card.get_by_label("Reconnect attempts")).to_have_value("")
        poll(
            lambda: (
                gateway.api("GET", f"/api/sessions/{ready_session}/config").json()["maxReconnectAttempts"]
                is None
            ),
            10,
            "unlimited reconnect attempts",
        )

        expect(card.locator("[data-field=proxy]")).to_have_text("none")
        card.get_by_label("New proxy URL").fill("ftp://proxy.example.com:21")  # refused, nothing changes
        card.get_by_role("button", name="Set proxy").click()
        expect(page.get_by_role("alert").last).to_contain_text("400")
        # Chromium logs the refused request; it is the one expected here.
        watched.problems.remove(
            "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
        )
        assert gateway.api("GET", f"/api/sessions/{ready_session}/proxy").json()["enabled"] is False

        card.get_by_label("New proxy URL").fill(PROXY)
        card.get_by_role("button", name="Set proxy").click()
        expect(card.locator("[data-field=proxy]")).to_have_text("http://alice:****@proxy.example.com:3128")
        assert "s3cret" not in card.inner_text()
        assert gateway.api("GET", f"/api/sessions/{ready_session}/proxy").json()["hasCredentials"] is True

        card.get_by_role("button", name="Clear proxy").click()
        expect(card.locator("[data-field=proxy]")).to_have_text("none")
        assert gateway.api("GET", f"/api/sessions/{ready_session}/proxy").json()["enabled"] is False
    finally:  # a proxy to nowhere would break the session's next start in the other stories
        gateway.api("PATCH", f"/api/sessions/{ready_session}/proxy", json={"proxyUrl": None})
        gateway.api(
            "PATCH",
            f"/api/sessions/{ready_session}/config",
            json={"maxReconnectAttempts": None, "reconnectBaseDelay": None, "autoRejectCalls": None},
        )
    assert_clean(watched, gateway.master_key)


def test_a_viewer_sees_the_settings_read_only_and_no_proxy(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    viewer = gateway.api("POST", "/api/auth/api-keys", json={"name": "dash-viewer", "role": "viewer"}).json()
    page = watched.page
    forbidden = watch_forbidden(watched)
    sign_in(page, viewer["apiKey"])
    nav(page, "Sessions")
    card = session_card(page, ready_session)
    card.get_by_text("Settings", exact=True).click()
    expect(card.get_by_label("Reconnect base delay (ms)")).to_be_disabled()
    expect(card.get_by_role("button", name="Save settings")).to_have_count(0)
    expect(card.get_by_text("Changing settings needs an operator key.")).to_be_visible()
    expect(card.locator("[data-field=proxy]")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Pages").get_by_role("link", name="Audit log")).to_be_hidden()
    gateway.api("DELETE", f"/api/auth/api-keys/{viewer['id']}")
    drop_expected_forbidden(watched, forbidden)
    assert_clean(watched, viewer["apiKey"])


def test_the_audit_log_filters_by_session_and_action_and_pages_older_entries(
    watched: Watched, gateway: Gateway
) -> None:
    session_id = gateway.api("POST", "/api/sessions", json={"name": "dash-audited"}).json()["id"]
    for delay in range(26):  # 26 entries of one action for this session: two pages of 25
        answer = gateway.api(
            "PATCH", f"/api/sessions/{session_id}/config", json={"reconnectBaseDelay": 1000 + delay}
        )
        answer.raise_for_status()
    page = watched.page
    sign_in(page, gateway.master_key)
    nav(page, "Audit log")
    audit = page.locator("#page-audit")
    expect(audit.locator("tbody tr").first).to_be_visible()

    audit.get_by_label("Action", exact=True).fill("session_config_updated")
    audit.get_by_label("Session", exact=True).select_option(session_id)
    page.get_by_role("button", name="Apply filters").click()
    total = audit.locator("[data-field=audit-total]")
    expect(total).to_have_text(f"26 matching; showing 1{DASH}25")
    expect(audit.locator("tbody tr")).to_have_count(25)
    assert set(audit.locator("tbody td[data-label=Action]").all_inner_texts()) == {"session_config_updated"}
    assert set(audit.locator("tbody td[data-label=Session]").all_inner_texts()) == {"dash-audited"}
    expect(page.get_by_role("button", name="Newest")).to_be_disabled()

    page.get_by_role("button", name="Older").click()
    expect(total).to_have_text(f"Entries 26{DASH}26")
    expect(audit.locator("tbody tr")).to_have_count(1)
    expect(audit.locator("tbody td[data-label=Details]")).to_contain_text('"reconnectBaseDelay"')
    expect(page.get_by_role("button", name="Older")).to_be_disabled()
    page.get_by_role("button", name="Newest").click()
    expect(total).to_have_text(f"26 matching; showing 1{DASH}25")

    audit.get_by_label("Severity", exact=True).select_option("error")
    page.get_by_role("button", name="Apply filters").click()
    expect(audit).to_contain_text("No entry matches these filters.")
    audit.get_by_label("Severity", exact=True).select_option("")
    audit.get_by_label("Since", exact=True).fill("2099-01-01T00:00")
    page.get_by_role("button", name="Apply filters").click()
    expect(total).to_have_text("0 matching")
    audit.get_by_label("Since", exact=True).fill("")
    audit.get_by_label("Until", exact=True).fill("2000-01-01T00:00")
    page.get_by_role("button", name="Apply filters").click()
    expect(total).to_have_text("0 matching")
    gateway.api("DELETE", f"/api/sessions/{session_id}")
    assert_clean(watched, gateway.master_key)


def test_a_scoped_admin_is_told_the_audit_log_is_not_for_it(watched: Watched, gateway: Gateway) -> None:
    session_id = gateway.api("POST", "/api/sessions", json={"name": "dash-scoped"}).json()["id"]
    scoped = gateway.api(
        "POST",
        "/api/auth/api-keys",
        json={"name": "dash-scoped-admin", "role": "admin", "allowedSessions": [session_id]},
    ).json()
    page = watched.page
    forbidden = watch_forbidden(watched)
    sign_in(page, scoped["apiKey"])
    nav(page, "Audit log")
    expect(page.locator("#page-audit")).to_contain_text("needs an admin key that is not limited")
    assert not [url for url, _ in watched.requests if "/api/audit" in url]
    gateway.api("DELETE", f"/api/auth/api-keys/{scoped['id']}")
    gateway.api("DELETE", f"/api/sessions/{session_id}")
    drop_expected_forbidden(watched, forbidden)
    assert_clean(watched, scoped["apiKey"])


def test_a_webhook_shows_its_delivery_log_newest_first(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    hook = gateway.api(
        "POST", f"/api/sessions/{ready_session}/webhooks", json={"url": gateway.receiver.url}
    ).json()
    page = watched.page
    sign_in(page, gateway.master_key)
    nav(page, "Webhooks")
    card = page.locator(f"article.webhook[data-webhook-id='{hook['id']}']")
    try:
        card.get_by_text("Delivery log").click()
        expect(card.locator(".delivery-log")).to_contain_text("No delivery attempted yet.")

        card.get_by_role("button", name="Send test").click()
        expect(page.locator(".toast").last).to_contain_text("Test delivered (HTTP 200)")
        gateway.receiver.script = [Answer(500)]
        card = page.locator(f"article.webhook[data-webhook-id='{hook['id']}']")
        card.get_by_role("button", name="Send test").click()
        expect(page.get_by_role("alert").last).to_contain_text("Test delivery failed")

        card = page.locator(f"article.webhook[data-webhook-id='{hook['id']}']")
        card.get_by_text("Delivery log").click()
        rows = card.locator(".delivery-log tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0).locator("td[data-label=Status]")).to_have_text("500")  # newest first
        expect(rows.nth(1).locator("td[data-label=Status]")).to_have_text("200")
        expect(rows.nth(0).locator("td[data-label=Event]")).to_have_text("test")
        expect(rows.nth(1).locator("td[data-label=Latency]")).to_have_text(re.compile(r"^\d+ ms$"))
    finally:
        gateway.receiver.script = []
        gateway.api("DELETE", f"/api/sessions/{ready_session}/webhooks/{hook['id']}")
    assert_clean(watched, gateway.master_key)


def test_copy_raw_qr_in_the_sandbox_puts_the_string_a_phone_links_with_on_the_clipboard(
    browser: Browser, gateway: Gateway
) -> None:
    answer = httpx.post(f"{gateway.sandbox_url}/_sandbox/phones", json={"number": DAVE, "name": "Dave"})
    assert answer.status_code in (201, 409), answer.text
    session_id = gateway.api("POST", "/api/sessions", json={"name": "dash-dave"}).json()["id"]
    gateway.api("POST", f"/api/sessions/{session_id}/start").raise_for_status()
    context = browser.new_context(
        viewport=DESKTOP, base_url=gateway.base_url, permissions=["clipboard-read", "clipboard-write"]
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        card = qr_card(page, gateway, session_id, "dash-dave")
        card.get_by_role("button", name="Copy raw QR").click()
        expect(page.locator(".toast").last).to_contain_text("Raw QR copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == raw_qr(gateway, session_id)

        gateway.control("POST", f"/phones/{DAVE}/link", json={"qr": copied})
        expect(card.locator("[data-field=status]")).to_have_text("ready", timeout=30_000)
    finally:
        context.close()
        gateway.api("DELETE", f"/api/sessions/{session_id}")


def test_copy_raw_qr_is_offered_only_when_the_engine_is_the_sandbox(
    watched: Watched, gateway: Gateway
) -> None:
    session_id = gateway.api("POST", "/api/sessions", json={"name": "dash-webjs"}).json()["id"]
    gateway.api("POST", f"/api/sessions/{session_id}/start").raise_for_status()
    page = watched.page

    def as_webjs(route: Route) -> None:  # the same gateway, as one running the real engine would answer
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "engineType": "webjs"})

    page.route("**/api/auth/validate", as_webjs)
    try:
        card = qr_card(page, gateway, session_id, "dash-webjs")
        expect(card.get_by_role("button", name="Get pairing code")).to_be_visible()
        expect(card.get_by_role("button", name="Copy raw QR")).to_have_count(0)
    finally:
        gateway.api("DELETE", f"/api/sessions/{session_id}")
    assert_clean(watched, gateway.master_key)
