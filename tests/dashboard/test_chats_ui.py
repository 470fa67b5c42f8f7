"""The Chats page in real Chromium, against a live `openwa up --sandbox`: stored history, live events,
sending a text, files and a reply that reach the other phone, paging, a stream that drops, a viewer key, an
image whose signed URL is of another origin, and a 390 px phone screen.

What reaches the phone is checked through the sandbox control API (`GET /_sandbox/phones/{n}/messages`),
never through the page itself.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.dashboard.conftest import SCREENSHOTS, Gateway, Watched, shoot, sign_in
from tests.dashboard.test_dashboard_ui import (  # noqa: F401 (ready_session: a module fixture)
    ALICE,
    BOB,
    assert_clean,
    poll,
    ready_session,
)
from tests.media_samples import mp3_tone, png

pytestmark = pytest.mark.e2e

DAVE, ERIN = "15550004444", "15550005555"
NARROW: ViewportSize = {"width": 390, "height": 844}
PAGE_SIZE = 30  # js/pages/chats.js


@pytest.fixture(scope="module")
def chat_session(request: pytest.FixtureRequest) -> str:
    """The session linked to Alice that the dashboard stories use (`ready_session`)."""
    session_id: str = request.getfixturevalue("ready_session")
    return session_id


def add_phone(gateway: Gateway, number: str, name: str) -> None:
    answer = httpx.post(f"{gateway.sandbox_url}/_sandbox/phones", json={"number": number, "name": name})
    assert answer.status_code in (201, 409), answer.text


def phone_sends(gateway: Gateway, number: str, text: str) -> dict[str, Any]:
    """`number` sends `text` to Alice; answers the message as that phone sees it (its `id`)."""
    sent: dict[str, Any] = gateway.control(
        "POST", f"/phones/{number}/messages", json={"to": f"{ALICE}@c.us", "text": text}
    )
    return sent


def stored(gateway: Gateway, session_id: str, chat: str) -> list[dict[str, Any]]:
    answer = gateway.api("GET", f"/api/sessions/{session_id}/messages", params={"chatId": chat, "limit": 100})
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


def inbox(gateway: Gateway, number: str) -> list[dict[str, Any]]:
    """What phone `number` received from Alice, oldest first."""
    return [m for m in gateway.control("GET", f"/phones/{number}/messages") if m["from"] == f"{ALICE}@c.us"]


def open_chats(page: Page, session_id: str) -> None:
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Chats").click()
    page.locator("#page-chats").get_by_label("Session", exact=True).select_option(session_id)


def open_chat(page: Page, number: str) -> Locator:
    """Open the chat with `number` by typing it (works whether or not the chat list has it yet)."""
    page.get_by_label("Phone number or chat id").fill(f"+{number}")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("#page-chats .conversation-id")).to_have_text(f"{number}@c.us")
    return page.locator("#conversation-messages")


def chat_with(page: Page, gateway: Gateway, session_id: str, number: str, name: str) -> Locator:
    """Sign in as admin and open the chat with phone `number` (made if missing); its message list."""
    add_phone(gateway, number, name)
    sign_in(page, gateway.master_key)
    open_chats(page, session_id)
    return open_chat(page, number)


def overflow(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


def test_history_is_there_after_a_reload_and_a_phone_message_appears_live(
    watched: Watched, gateway: Gateway, chat_session: str
) -> None:
    add_phone(gateway, BOB, "Bob")
    phone_sends(gateway, BOB, "stored before the page opened")
    poll(
        lambda: any(m["body"] == "stored before the page opened" for m in stored(gateway, chat_session, BOB)),
        20,
        "the message to be stored",
    )
    page = watched.page
    sign_in(page, gateway.master_key)
    open_chats(page, chat_session)
    entry = page.locator(f"#chat-list [data-chat-id='{BOB}@c.us']")
    expect(entry).to_contain_text("stored before the page opened")  # the chat list, from WhatsApp
    entry.click()
    messages = page.locator("#conversation-messages")
    expect(messages.locator("li.msg-in", has_text="stored before the page opened")).to_be_visible()

    page.reload()  # nothing in memory: the open chat comes back from the address, its messages from storage
    expect(page).to_have_url(re.compile(rf"#/chats/{chat_session}/{BOB}%40c\.us$"))
    expect(messages.locator("li", has_text="stored before the page opened")).to_be_visible()
    expect(entry).to_contain_text("stored before the page opened")  # and the chat list beside it
    page.evaluate("window.__sameDocument = true")

    phone_sends(gateway, BOB, "sent while you watch")

    expect(messages.locator("li.msg-in").last).to_contain_text("sent while you watch", timeout=20_000)
    expect(entry).to_contain_text("sent while you watch")
    assert page.evaluate("window.__sameDocument") is True  # the event stream, not a reload
    assert_clean(watched, gateway.master_key)


def test_a_text_an_image_a_document_audio_and_a_reply_sent_from_the_page_reach_the_phone(
    watched: Watched, gateway: Gateway, chat_session: str
) -> None:
    page = watched.page
    messages = chat_with(page, gateway, chat_session, BOB, "Bob")
    composer = page.get_by_role("form", name="Send a message")

    composer.get_by_label("Message", exact=True).fill("a text from the Chats page")
    composer.get_by_role("button", name="Send").click()
    expect(messages.locator("li.msg-out", has_text="a text from the Chats page")).to_have_attribute(
        "data-status", re.compile("sent|delivered|read"), timeout=20_000
    )
    got = poll(
        lambda: [m for m in inbox(gateway, BOB) if m["body"] == "a text from the Chats page"], 20, "text"
    )
    assert got[0]["type"] == "chat"

    picture = png(24, 16, (200, 30, 90, 255))
    composer.get_by_label("Attach a file").set_input_files(
        {"name": "dot.png", "mimeType": "image/png", "buffer": picture}
    )
    composer.get_by_label("Message", exact=True).fill("a picture")
    composer.get_by_role("button", name="Send").click()
    image = messages.locator("li.msg-out", has_text="a picture").get_by_role("img", name="dot.png")
    expect(image).to_be_visible(timeout=20_000)
    src = image.get_attribute("src") or ""
    assert src.startswith(f"{gateway.base_url}/api/storage/")  # the record's signed URL, same origin
    poll(lambda: image.evaluate("img => img.complete && img.naturalWidth") == 24, 10, "the image to load")
    got = poll(lambda: [m for m in inbox(gateway, BOB) if m.get("caption") == "a picture"], 20, "the image")
    assert got[0]["type"] == "image"
    assert base64.b64decode(got[0]["media"]["base64"]) == picture

    composer.get_by_label("Attach a file").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"minutes of the meeting\n"}
    )
    composer.get_by_role("button", name="Send").click()
    link = messages.get_by_role("link", name=re.compile(r"^Download notes\.txt"))
    expect(link).to_be_visible(timeout=20_000)
    got = poll(
        lambda: [m for m in inbox(gateway, BOB) if (m.get("media") or {}).get("filename") == "notes.txt"],
        20,
        "the document",
    )
    assert got[0]["type"] == "document"
    assert httpx.get(link.get_attribute("href") or "").content == b"minutes of the meeting\n"

    composer.get_by_label("Attach a file").set_input_files(
        {"name": "tone.mp3", "mimeType": "audio/mpeg", "buffer": mp3_tone()}
    )
    composer.get_by_role("button", name="Send").click()
    expect(messages.get_by_role("link", name=re.compile(r"^Download tone\.mp3"))).to_be_visible(
        timeout=20_000
    )
    got = poll(
        lambda: [m for m in inbox(gateway, BOB) if (m.get("media") or {}).get("filename") == "tone.mp3"],
        20,
        "the audio",
    )
    assert got[0]["type"] == "audio"  # sent by send-audio, from the file's type

    quoted = phone_sends(gateway, BOB, "quote me on this")
    incoming = messages.locator("li.msg-in", has_text="quote me on this")
    incoming.get_by_role("button", name="Reply to “quote me on this”").click()
    expect(composer.get_by_role("status")).to_contain_text("Replying to “quote me on this”")
    composer.get_by_label("Message", exact=True).fill("quoted you")
    composer.get_by_role("button", name="Send").click()
    expect(messages.locator("li.msg-out", has_text="quoted you").locator("blockquote")).to_have_text(
        "quote me on this"
    )
    got = poll(lambda: [m for m in inbox(gateway, BOB) if m["body"] == "quoted you"], 20, "the reply")
    assert got[0]["quotedId"] == quoted["id"]  # quoting Bob's message, as Bob's phone knows it
    expect(composer.get_by_role("status")).to_be_hidden()
    shoot(page, "chats")
    assert_clean(watched, gateway.master_key)


def test_a_message_that_came_while_the_stream_was_down_is_shown_when_it_is_back(
    watched: Watched, gateway: Gateway, chat_session: str
) -> None:
    """No event was seen yet, so the stream cannot resume from one: the page re-reads the open chat."""
    page = watched.page
    messages = chat_with(page, gateway, chat_session, BOB, "Bob")
    expect(page.locator("#live-state")).to_have_text("live")
    page.context.set_offline(True)
    expect(page.locator("#live-state")).to_have_text("reconnecting…", timeout=15_000)

    phone_sends(gateway, BOB, "sent while the page was offline")
    poll(
        lambda: any(
            m["body"] == "sent while the page was offline" for m in stored(gateway, chat_session, BOB)
        ),
        20,
        "the message to be stored",
    )
    page.context.set_offline(False)

    expect(messages.locator("li.msg-in", has_text="sent while the page was offline")).to_be_visible(
        timeout=40_000
    )
    # Offline, the browser logs each failed fetch of the stream; nothing else may appear.
    watched.problems[:] = [p for p in watched.problems if "ERR_INTERNET_DISCONNECTED" not in p]
    assert_clean(watched, gateway.master_key)


def test_older_messages_load_a_page_at_a_time(watched: Watched, gateway: Gateway, chat_session: str) -> None:
    add_phone(gateway, DAVE, "Dave")
    count = PAGE_SIZE + 5
    for n in range(1, count + 1):
        phone_sends(gateway, DAVE, f"page message {n:02d}")
    poll(lambda: len(stored(gateway, chat_session, DAVE)) == count, 30, f"{count} stored messages")
    page = watched.page
    sign_in(page, gateway.master_key)
    open_chats(page, chat_session)
    messages = open_chat(page, DAVE)

    expect(messages.locator("li")).to_have_count(PAGE_SIZE)
    expect(messages.locator("li").last).to_contain_text(f"page message {count:02d}")  # newest at the end
    expect(messages.locator("li").first).to_contain_text("page message 06")
    older = page.get_by_role("button", name="Load older messages")

    older.click()

    expect(messages.locator("li")).to_have_count(count)
    expect(messages.locator("li").first).to_contain_text("page message 01")
    texts = messages.locator("li .msg-text").all_inner_texts()
    assert texts == [f"page message {n:02d}" for n in range(1, count + 1)]  # in order, none twice
    expect(older).to_be_hidden()
    assert_clean(watched, gateway.master_key)


def test_at_390_px_the_list_and_the_conversation_are_two_views_with_no_sideways_scroll(
    watched: Watched, gateway: Gateway, chat_session: str
) -> None:
    add_phone(gateway, ERIN, "Erin")
    long_word = "supercalifragilistic" * 6  # one unbreakable 120-character word
    phone_sends(gateway, ERIN, f"hello from Erin {long_word}")
    poll(lambda: stored(gateway, chat_session, ERIN), 20, "Erin's message to be stored")
    page = watched.page
    page.set_viewport_size(NARROW)
    sign_in(page, gateway.master_key)
    open_chats(page, chat_session)
    chat_list = page.get_by_role("region", name="Chats of the session")
    conversation = page.locator("#page-chats .conversation")
    expect(chat_list).to_be_visible()
    expect(conversation).to_be_hidden()
    assert overflow(page) <= 0

    page.locator(f"#chat-list [data-chat-id='{ERIN}@c.us']").click()

    expect(conversation).to_be_visible()
    expect(chat_list).to_be_hidden()
    expect(conversation.locator("li.msg-in", has_text="hello from Erin")).to_be_visible()
    expect(page.get_by_role("form", name="Send a message")).to_be_visible()
    assert overflow(page) <= 0, f"the conversation is {overflow(page)} px wider than a 390 px screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chats-390.png"), full_page=True)

    page.get_by_role("button", name="Back to chats").click()
    expect(chat_list).to_be_visible()
    expect(conversation).to_be_hidden()
    assert overflow(page) <= 0
    assert_clean(watched, gateway.master_key)


def test_an_image_whose_signed_url_is_of_another_origin_is_read_through_the_api(
    watched: Watched, gateway: Gateway, chat_session: str
) -> None:
    """The signed URL names 127.0.0.1 (BASE_URL's default); the page is opened as localhost, so the CSP
    would refuse to load the URL in an <img>: the page reads the media through the API instead."""
    add_phone(gateway, BOB, "Bob")
    picture = png(24, 16, (20, 120, 200, 255))
    sent = gateway.api(
        "POST",
        f"/api/sessions/{chat_session}/messages/send-image",
        json={"chatId": BOB, "base64": base64.b64encode(picture).decode(), "filename": "blue.png"},
    ).json()
    record = poll(
        lambda: next((m for m in stored(gateway, chat_session, BOB) if m["id"] == sent["messageId"]), None),
        20,
        "the image to be stored",
    )
    assert str(record["media"]["url"]).startswith("http://127.0.0.1:")
    page = watched.page
    page.goto(gateway.base_url.replace("127.0.0.1", "localhost") + "/")
    page.get_by_label("API key").fill(gateway.master_key)
    page.get_by_role("button", name="Connect").click()
    open_chats(page, chat_session)

    image = open_chat(page, BOB).locator(f"li[data-message-id='{sent['messageId']}'] img")

    expect(image).to_have_attribute("src", re.compile(r"^data:image/png;base64,"), timeout=20_000)
    poll(lambda: image.evaluate("img => img.complete && img.naturalWidth") == 24, 10, "the image to load")
    assert_clean(watched, gateway.master_key)


def test_a_viewer_key_reads_chats_but_is_offered_no_way_to_send(
    watched: Watched, gateway: Gateway, chat_session: str
) -> None:
    add_phone(gateway, BOB, "Bob")
    phone_sends(gateway, BOB, "for the viewer's eyes")
    poll(
        lambda: any(m["body"] == "for the viewer's eyes" for m in stored(gateway, chat_session, BOB)),
        20,
        "the message to be stored",
    )
    viewer = gateway.api("POST", "/api/auth/api-keys", json={"name": "chats-viewer", "role": "viewer"}).json()
    page = watched.page
    # Straight to the chat by its address (the Overview would ask for admin-only traffic figures).
    page.goto(f"/#/chats/{chat_session}/{BOB}%40c.us")
    page.get_by_label("API key").fill(viewer["apiKey"])
    page.get_by_role("button", name="Connect").click()
    messages = page.locator("#conversation-messages")

    expect(messages.locator("li.msg-in", has_text="for the viewer's eyes")).to_be_visible()
    expect(page.get_by_text("Sending needs an operator key.")).to_be_visible()
    expect(page.get_by_role("form", name="Send a message")).to_have_count(0)
    expect(messages.get_by_role("button", name=re.compile("^Reply"))).to_have_count(0)
    assert_clean(watched, viewer["apiKey"])
