"""Stories of a person using the dashboard in real Chromium, against a live `openwa up --sandbox`.

They share one gateway (module fixture); each starts from a fresh browser context (nothing in session
storage), signs in by pasting a key, and ends with no console error and no CSP violation on the page.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from functions.core.enums import SessionStatus
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository
from runner.events import emit_event
from tests.dashboard.conftest import KEY_STORAGE, PHONE, Gateway, Watched, shoot, sign_in
from tests.integration.webhooks.conftest import Answer

pytestmark = pytest.mark.e2e

ALICE, BOB, CAROL = "15550001111", "15550002222", "15550003333"


def poll(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def ensure_phones(gateway: Gateway) -> None:
    for number, name in ((ALICE, "Alice"), (BOB, "Bob")):
        response = httpx.post(f"{gateway.sandbox_url}/_sandbox/phones", json={"number": number, "name": name})
        assert response.status_code in (201, 409), response.text


def raw_qr(gateway: Gateway, session_id: str) -> str:
    def probe() -> str | None:
        answer = gateway.api("GET", f"/api/sessions/{session_id}/qr", params={"format": "raw"})
        return answer.json()["raw"] if answer.status_code == 200 else None

    found: str = poll(probe, 30, "a QR code")
    return found


@pytest.fixture(scope="module")
def ready_session(gateway: Gateway) -> str:
    """A session linked to Alice: the one the QR story linked, else one linked here through the API."""
    ensure_phones(gateway)
    for session in gateway.api("GET", "/api/sessions").json():
        if session["status"] == "ready":
            return str(session["id"])
    session_id = gateway.api("POST", "/api/sessions", json={"name": "dash-linked"}).json()["id"]
    gateway.api("POST", f"/api/sessions/{session_id}/start").raise_for_status()
    gateway.control("POST", f"/phones/{ALICE}/link", json={"qr": raw_qr(gateway, session_id)})
    poll(
        lambda: gateway.api("GET", f"/api/sessions/{session_id}").json()["status"] == "ready",
        30,
        "the session to be ready",
    )
    return str(session_id)


def assert_clean(watched: Watched, key: str) -> None:
    """No console error or CSP violation, and the key never appeared in a URL."""
    assert watched.problems == []
    assert [url for url, _ in watched.requests if key in url] == []


def test_a_wrong_key_shows_a_clear_error_and_is_not_kept(watched: Watched, gateway: Gateway) -> None:
    page = watched.page
    page.goto("/")
    expect(page.get_by_label("API key")).to_be_focused()

    page.keyboard.type("owa_k1_" + "0" * 64)  # keyboard only: type, then Enter submits
    page.keyboard.press("Enter")

    error = page.get_by_role("alert")
    expect(error).to_contain_text("This API key was not accepted")
    expect(error).to_contain_text("401")
    expect(page.get_by_role("navigation", name="Pages")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{KEY_STORAGE}')") is None
    shoot(page, "login")
    assert watched.problems == []


def test_a_session_is_linked_by_qr_and_turns_ready_without_a_reload(
    watched: Watched, gateway: Gateway
) -> None:
    ensure_phones(gateway)
    page = watched.page
    sign_in(page, gateway.master_key)
    expect(page.locator("#live-state")).to_have_text("live")
    assert page.evaluate(f"sessionStorage.getItem('{KEY_STORAGE}')") == gateway.master_key
    assert page.evaluate("localStorage.length") == 0
    page.get_by_role("link", name="Sessions").click()

    page.get_by_label("New session name").fill("dash-alice")
    page.get_by_role("button", name="Create session").click()  # "Start it now" is ticked
    card = page.locator("article.session", has=page.get_by_role("heading", name="dash-alice"))
    qr = card.get_by_role("img", name="QR code to link session dash-alice")
    expect(qr).to_be_visible(timeout=30_000)
    assert (qr.get_attribute("src") or "").startswith("data:image/png;base64,")
    page.evaluate("window.__sameDocument = true")
    session_id = card.get_attribute("data-session-id")
    assert session_id
    shoot(page, "sessions-qr")

    gateway.control("POST", f"/phones/{ALICE}/link", json={"qr": raw_qr(gateway, session_id)})

    expect(card.locator("[data-field=status]")).to_have_text("ready", timeout=30_000)
    expect(card.locator("[data-field=phone]")).to_have_text(f"+{ALICE}")
    expect(card.locator("[data-field=pushName]")).to_have_text("Alice")
    expect(qr).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is True  # live over the event stream, not a reload
    shoot(page, "sessions")
    # The server ends each stream after SSE_MAX_SECONDS; the page came back resuming where it was.
    deadline = time.monotonic() + 15
    while not [h for url, h in watched.requests if url.endswith("/api/events") and "last-event-id" in h]:
        assert time.monotonic() < deadline, "the event stream was not resumed with Last-Event-ID"
        page.wait_for_timeout(200)  # Playwright delivers page events while one of its calls runs
    assert all(h.get("x-api-key") == gateway.master_key for u, h in watched.requests if "/api/events" in u)
    assert_clean(watched, gateway.master_key)


def test_a_session_is_linked_by_pairing_code(watched: Watched, gateway: Gateway) -> None:
    answer = httpx.post(f"{gateway.sandbox_url}/_sandbox/phones", json={"number": CAROL, "name": "Carol"})
    assert answer.status_code in (201, 409), answer.text
    session_id = gateway.api("POST", "/api/sessions", json={"name": "dash-carol"}).json()["id"]
    gateway.api("POST", f"/api/sessions/{session_id}/start").raise_for_status()
    page = watched.page
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="Sessions").click()
    card = page.locator(f"article.session[data-session-id='{session_id}']")

    card.get_by_label("…or link with a phone number").fill(f"+{CAROL}")
    card.get_by_role("button", name="Get pairing code").click()

    shown = card.locator("output.pairing-code strong")
    expect(shown).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"), timeout=30_000)
    gateway.control("POST", f"/phones/{CAROL}/link", json={"pairingCode": shown.inner_text()})
    expect(card.locator("[data-field=status]")).to_have_text("ready", timeout=30_000)
    expect(card.locator("[data-field=pushName]")).to_have_text("Carol")
    assert_clean(watched, gateway.master_key)


def test_a_failed_session_shows_its_last_error_as_it_happens(watched: Watched, gateway: Gateway) -> None:
    session_id = gateway.api("POST", "/api/sessions", json={"name": "dash-doomed"}).json()["id"]
    page = watched.page
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="Sessions").click()
    card = page.locator(f"article.session[data-session-id='{session_id}']")
    expect(card.locator("[data-field=status]")).to_have_text("created")

    conn = gateway.redis()  # play the runner: the session fails, and it says so on the event stream
    try:
        SessionRepository(conn, Keys(gateway.settings.redis_prefix)).update(
            session_id, status=SessionStatus.FAILED, last_error="Chromium exited with code 139"
        )
        emit_event(conn, gateway.settings, session_id, "session.status", {"status": "failed"})
    finally:
        conn.close()

    expect(card.locator("[data-field=status]")).to_have_text("failed")
    expect(card.locator("[data-field=lastError]")).to_have_text("Chromium exited with code 139")
    card.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(card).to_have_count(0)
    assert gateway.api("GET", f"/api/sessions/{session_id}").status_code == 404
    assert_clean(watched, gateway.master_key)


def test_the_chats_page_sends_a_text_that_reaches_the_phone_and_shows_the_answer(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    page = watched.page
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="Chats").click()
    page.locator("#page-chats").get_by_label("Session", exact=True).select_option(ready_session)
    page.get_by_label("Phone number or chat id").fill(BOB)
    page.get_by_role("button", name="Open", exact=True).click()
    page.get_by_label("Message", exact=True).fill("hello Bob, from the dashboard")

    page.get_by_role("button", name="Send", exact=True).click()

    inbox = poll(
        lambda: [m for m in gateway.control("GET", f"/phones/{BOB}/messages") if "dashboard" in m["body"]],
        20,
        "Bob to receive the text",
    )
    assert inbox[0]["body"] == "hello Bob, from the dashboard"
    assert inbox[0]["from"] == f"{ALICE}@c.us"
    messages = page.locator("#conversation-messages")
    sent = messages.locator("li.msg-out", has_text="hello Bob, from the dashboard")
    # message.sent, then message.ack, move it on from "pending" without a reload
    expect(sent).to_have_attribute("data-status", re.compile("sent|delivered|read"), timeout=20_000)

    gateway.control("POST", f"/phones/{BOB}/messages", json={"to": f"{ALICE}@c.us", "text": "hi Alice"})
    expect(messages.locator("li.msg-in").last).to_contain_text("hi Alice", timeout=20_000)
    shoot(page, "chat")
    assert_clean(watched, gateway.master_key)


def test_a_group_is_created_shown_with_admin_badges_and_its_invite_link_and_members_change(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    httpx.post(f"{gateway.sandbox_url}/_sandbox/phones", json={"number": CAROL, "name": "Carol"})
    page = watched.page
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="Groups").click()
    page.get_by_label("Ready session").select_option(ready_session)
    page.get_by_label("Group name").fill("Dashboard crew")
    page.get_by_label("Members").fill(f"+{BOB}")
    page.get_by_role("button", name="Create group").click()

    detail = page.locator("#group-detail")
    expect(detail.get_by_role("heading", name="Dashboard crew")).to_be_visible(timeout=20_000)
    expect(detail.locator("tr", has_text=f"{ALICE}@c.us").locator(".badge")).to_have_text("owner")
    expect(detail.locator("tr", has_text=f"{BOB}@c.us")).to_contain_text("member")
    listed = gateway.api("GET", f"/api/sessions/{ready_session}/groups").json()
    group_id = next(g["id"] for g in listed if g["name"] == "Dashboard crew")
    expect(page.locator("#groups-list")).to_contain_text(group_id)

    detail.get_by_role("button", name="Show invite link").click()
    expect(page.locator("#group-invite")).to_contain_text("https://chat.whatsapp.com/", timeout=15_000)
    page.get_by_label("Add members (phone numbers)").fill(CAROL)
    detail.get_by_role("button", name="Add", exact=True).click()
    expect(detail.locator("tr", has_text=f"{CAROL}@c.us")).to_be_visible(timeout=15_000)
    detail.get_by_role("button", name=f"Remove {BOB}").click()
    expect(detail.locator("tr", has_text=f"{BOB}@c.us")).to_have_count(0, timeout=15_000)
    members = {p["id"] for p in gateway.control("GET", f"/groups/{group_id}")["participants"]}
    assert members == {f"{ALICE}@c.us", f"{CAROL}@c.us"}
    shoot(page, "groups")
    assert_clean(watched, gateway.master_key)


def test_a_webhook_is_created_tested_edited_and_deleted(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    page, receiver = watched.page, gateway.receiver
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="Webhooks").click()
    form = page.get_by_role("form", name="Create a webhook")
    form.get_by_label("Session", exact=True).select_option(ready_session)
    form.get_by_label("URL").fill(receiver.url)
    form.get_by_role("button", name="Create webhook").click()
    card = page.locator("article.webhook", has=page.get_by_role("heading", name=receiver.url))
    expect(card).to_contain_text("message.received")
    card = page.locator(f"article.webhook[data-webhook-id='{card.get_attribute('data-webhook-id')}']")

    before = len(receiver.received)
    card.get_by_role("button", name="Send test").click()

    expect(card.get_by_role("list", name="Recent test deliveries")).to_contain_text("delivered, HTTP 200")
    delivered = receiver.wait_for(before + 1, 10)[-1]
    assert delivered.headers["x-openwa-event"] == "test"
    assert json.loads(delivered.body)["sessionId"] == ready_session
    expect(page.get_by_role("heading", name="Dead letters")).to_be_visible()
    shoot(page, "webhooks")

    card.get_by_role("button", name="Edit").click()
    card.locator("details.events-picker summary").click()
    card.get_by_label("message.sent").check()
    card.get_by_role("button", name="Save").click()
    expect(card).to_contain_text("message.received, message.sent")
    hooks = gateway.api("GET", f"/api/sessions/{ready_session}/webhooks").json()
    assert [hook["events"] for hook in hooks] == [["message.received", "message.sent"]]

    card.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
    assert gateway.api("GET", f"/api/sessions/{ready_session}/webhooks").json() == []
    assert_clean(watched, gateway.master_key)


def test_a_dead_letter_shows_its_attempts_and_is_redriven(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    receiver = gateway.receiver
    hook = gateway.api(
        "POST", f"/api/sessions/{ready_session}/webhooks", json={"url": receiver.url, "retryCount": 1}
    ).json()
    receiver.default = Answer(status=500)
    try:
        gateway.control("POST", f"/phones/{BOB}/messages", json={"to": f"{ALICE}@c.us", "text": "anyone?"})
        poll(lambda: gateway.api("GET", "/api/webhooks/delivery-failures").json(), 30, "a dead letter")
        page = watched.page
        sign_in(page, gateway.master_key)
        page.get_by_role("link", name="Webhooks").click()
        dead = page.locator("article.dead-letter", has_text="message.received")
        expect(dead).to_contain_text("last 500")
        dead.get_by_role("button", name="Attempts").click()
        expect(dead.get_by_role("table")).to_contain_text("500")
        shoot(page, "webhooks-dead-letters")

        receiver.default = Answer(status=200)
        before = len(receiver.received)
        dead.get_by_role("button", name="Redrive").click()

        expect(page.get_by_text("No dead letters")).to_be_visible()
        redelivered = receiver.wait_for(before + 1, 20)[-1]
        assert redelivered.headers["x-openwa-event"] == "message.received"
        assert json.loads(redelivered.body)["data"]["body"] == "anyone?"
    finally:
        receiver.default = Answer()
        gateway.api("DELETE", f"/api/sessions/{ready_session}/webhooks/{hook['id']}")
    assert_clean(watched, gateway.master_key)


def test_an_api_key_is_shown_once_copied_revoked_and_deleted(watched: Watched, gateway: Gateway) -> None:
    page = watched.page
    watched.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="API keys").click()
    form = page.get_by_role("form", name="Create an API key")
    form.get_by_label("Name").fill("ci-bot")
    form.get_by_label("Role").select_option("operator")
    form.get_by_role("button", name="Create key").click()

    shown = page.get_by_label("New API key")
    expect(shown).to_have_value(re.compile(r"^owa_k1_[0-9a-f]{64}$"))
    plaintext = shown.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plaintext
    validated = httpx.post(f"{gateway.base_url}/api/auth/validate", headers={"X-API-Key": plaintext})
    assert validated.json()["role"] == "operator"
    shoot(page, "keys")
    page.get_by_role("button", name="I have stored it").click()
    expect(page.get_by_label("New API key")).to_have_count(0)
    assert plaintext not in page.content()  # shown once: gone from the page

    row = page.locator("tr[data-key-name='ci-bot']")
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")  # cancelled: nothing happens
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("revoked")
    refused = httpx.post(f"{gateway.base_url}/api/auth/validate", headers={"X-API-Key": plaintext})
    assert refused.status_code == 401

    row.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert "ci-bot" not in [key["name"] for key in gateway.api("GET", "/api/auth/api-keys").json()]
    assert_clean(watched, gateway.master_key)


def test_the_overview_shows_sessions_runners_and_free_capacity(watched: Watched, gateway: Gateway) -> None:
    page = watched.page
    sign_in(page, gateway.master_key)
    expected = gateway.api("GET", "/api/dashboard/overview").json()

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    stat = lambda name: page.locator(f"[data-stat={name}] .stat-value")  # noqa: E731
    expect(stat("sessions-total")).to_have_text(str(expected["sessions"]["total"]))
    expect(stat("runners")).to_have_text("1")
    runner = expected["runners"]["items"][0]
    expect(stat("runners-free")).to_have_text(str(runner["maxSessions"] - runner["sessions"]))
    expect(stat("messages-sent")).to_be_visible()
    expect(stat("queue-webhooks")).to_be_visible()
    shoot(page, "overview")
    assert_clean(watched, gateway.master_key)


def test_the_overview_charts_traffic_by_period_and_type_for_admins_only(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    texts = lambda: gateway.api("GET", "/api/stats/messages?period=7d").json()["byType"].get("text", 0)  # noqa: E731
    before = texts()  # earlier stories sent texts too: wait for this one to be counted, not any
    gateway.api(
        "POST",
        f"/api/sessions/{ready_session}/messages/send-text",
        json={"chatId": f"{BOB}@c.us", "text": "charted"},
    ).raise_for_status()
    poll(lambda: texts() > before, 20, "the send to be counted")
    stats = gateway.api("GET", "/api/stats/messages?period=7d").json()
    sent = sum(point["sent"] for point in stats["timeSeries"])
    page = watched.page
    sign_in(page, gateway.master_key)
    traffic = page.get_by_role("region", name="Traffic")
    expect(traffic.get_by_role("img")).to_have_attribute(
        "aria-label", re.compile(r"^Messages: \d+ sent, \d+ received$")
    )
    page.get_by_label("Period").select_option("7d")
    chart = traffic.get_by_role("img")
    expect(chart).to_have_attribute("aria-label", re.compile(rf"^Messages: {sent} sent, "))
    expect(chart.locator("rect.chart-bar")).to_have_count(2 * len(stats["timeSeries"]))
    expect(traffic.locator("[data-type=text] .type-count")).to_have_text(str(stats["byType"]["text"]))
    page.set_viewport_size(PHONE)
    # Redrawn at the phone's width (text keeps its size instead of shrinking with the picture).
    expect(chart).to_have_attribute("viewBox", re.compile(r"^0 0 (2[89]\d|3[0-5]\d) 220$"))
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] <= PHONE["width"]
    shoot(page, "overview-traffic")
    assert_clean(watched, gateway.master_key)

    viewer = gateway.api("POST", "/api/auth/api-keys", json={"name": "chart-viewer", "role": "viewer"}).json()
    page.evaluate("sessionStorage.clear()")
    sign_in(page, viewer["apiKey"])
    expect(page.get_by_role("region", name="Traffic")).to_contain_text("need an admin key")


def test_session_buttons_follow_its_state_and_an_unreachable_gateway_shows_unknown(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    idle = gateway.api("POST", "/api/sessions", json={"name": "idle-buttons"}).json()["id"]
    page = watched.page
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="Sessions").click()
    ready = page.locator(f"article.session[data-session-id='{ready_session}']")
    created = page.locator(f"article.session[data-session-id='{idle}']")
    expect(ready.locator("[data-command=start]")).to_be_disabled()
    expect(ready.locator("[data-command=start]")).to_have_attribute("title", "It is already running.")
    for name in ("stop", "restart", "logout", "force-kill"):
        expect(ready.locator(f"[data-command={name}]")).to_be_enabled()
    expect(created.locator("[data-command=start]")).to_be_enabled()
    for name in ("stop", "restart", "logout", "force-kill"):
        expect(created.locator(f"[data-command={name}]")).to_be_disabled()
    expect(ready.locator("[data-field=engine]")).to_have_text("open on a runner")

    badge = ready.locator("[data-field=status]")
    expect(badge).to_have_text("ready")
    page.context.set_offline(True)  # the event stream drops: the last status seen may be stale
    expect(badge).to_have_text("unknown", timeout=15_000)
    expect(badge).to_have_attribute("title", re.compile("last seen ready"))
    page.context.set_offline(False)
    expect(badge).to_have_text("ready", timeout=15_000)
    gateway.api("DELETE", f"/api/sessions/{idle}")
    # Offline, the browser logs each failed fetch of the stream; nothing else may appear.
    watched.problems[:] = [p for p in watched.problems if "ERR_INTERNET_DISCONNECTED" not in p]
    assert_clean(watched, gateway.master_key)


def test_the_last_admin_key_cannot_be_revoked_from_the_dashboard(watched: Watched, gateway: Gateway) -> None:
    admins = [
        key
        for key in gateway.api("GET", "/api/auth/api-keys").json()
        if key["role"] == "admin"
        and key["isActive"]
        and not key.get("allowedSessions")
        and not key["expiresAt"]
    ]
    assert len(admins) == 1  # the master key only
    page = watched.page
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="API keys").click()
    row = page.locator(f"tr[data-key-id='{admins[0]['id']}']")
    expect(row.get_by_role("button", name="Revoke")).to_be_disabled()
    expect(row.get_by_role("button", name="Delete")).to_be_disabled()
    expect(row.locator("[data-field=last-admin]")).to_contain_text("create another admin key first")
    assert_clean(watched, gateway.master_key)


def test_the_webhook_form_starts_afresh_after_a_create_and_the_page_has_its_icon(
    watched: Watched, gateway: Gateway, ready_session: str
) -> None:
    page, receiver = watched.page, gateway.receiver
    sign_in(page, gateway.master_key)
    page.get_by_role("link", name="Webhooks").click()
    form = page.get_by_role("form", name="Create a webhook")
    form.get_by_label("Session", exact=True).select_option(ready_session)
    form.get_by_label("URL").fill(receiver.url)
    form.locator("details.events-picker summary").click()
    form.get_by_label("message.sent").check()
    form.get_by_label("Attempts").fill("5")
    form.get_by_role("button", name="Create webhook").click()
    expect(form.get_by_label("URL")).to_have_value("")
    expect(form.get_by_label("Attempts")).to_have_value("3")
    expect(form.locator("details.events-picker summary")).to_have_text("Events (message.received)")
    icon = httpx.get(f"{gateway.base_url}/dashboard/static/favicon.svg")
    assert (icon.status_code, icon.headers["content-type"].split(";")[0]) == (200, "image/svg+xml")
    for hook in gateway.api("GET", f"/api/sessions/{ready_session}/webhooks").json():
        if hook["url"] == receiver.url:
            gateway.api("DELETE", f"/api/sessions/{ready_session}/webhooks/{hook['id']}")
    assert_clean(watched, gateway.master_key)


def test_every_page_fits_a_phone_screen_and_is_reachable_by_keyboard(
    watched: Watched, gateway: Gateway
) -> None:
    page = watched.page
    sign_in(page, gateway.master_key)
    page.set_viewport_size(PHONE)
    for name in ("Overview", "Sessions", "Chats", "Groups", "Webhooks", "API keys"):
        link = page.get_by_role("navigation", name="Pages").get_by_role("link", name=name)
        link.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        expect(link).to_have_attribute("aria-current", "page")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow} px wider than a 360 px screen"
    assert_clean(watched, gateway.master_key)
