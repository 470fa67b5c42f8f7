"""The WPP double's WPP.labels and WPP.newsletter keep wa-js's rules (its dist, pinned 4.6.0), in a real page:
what an account that is not a business one may do, how a colour is read, what answers false instead of
throwing, and the codes of what is refused. The engine's own use of them is in
`tests/runner/test_labels_and_channels.py`; these are the rules it does not happen to meet there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.sandbox.conftest import ALICE, BOB, SandboxClient, link_by_qr

CAUGHT = """async (script) => {
  try { return { value: await (eval(script))() }; }
  catch (error) { return { code: error.code, message: String(error.message) }; }
}"""


def run(page: Page, script: str) -> Any:
    """`script` (an async arrow function) in the page: `{value}` or the error's `{code, message}`."""
    return page.evaluate(CAUGHT, script)


@pytest.fixture
def business(sandbox: SandboxClient, open_page: Callable[..., Page]) -> Page:
    """Alice's WhatsApp Web on a business account, linked; Bob is a phone (not a business one) with a chat."""
    sandbox.post("/_sandbox/phones", {"number": ALICE, "name": "Alice", "business": True}, 201)
    sandbox.phone(BOB, "Bob")
    sandbox.post(f"/_sandbox/phones/{BOB}/messages", {"to": f"{ALICE}@c.us", "text": "hi"}, 201)
    page = open_page()
    link_by_qr(page, sandbox, ALICE)
    return page


def test_label_colours_are_read_as_wa_js_reads_them(business: Page, sandbox: SandboxClient) -> None:
    assert run(business, "async () => WPP.profile.isBusiness()") == {"value": True}
    made = run(business, "async () => WPP.labels.addNewLabel('Lead', { labelColor: '#ffd429' })")["value"]
    assert (made["id"], made["colorIndex"], made["hexColor"]) == ("1", 2, "#ffd429")  # a hex is its index
    # editLabel reads colour 0 as "none given" and keeps the label's (editLabel.ts: `u || r.colorIndex`).
    kept = run(business, "async () => WPP.labels.editLabel('1', { labelColor: 0, name: 'Hot lead' })")[
        "value"
    ]
    assert (kept["name"], kept["colorIndex"]) == ("Hot lead", 2)
    off = run(business, "async () => WPP.labels.addNewLabel('X', { labelColor: '#123456' })")
    assert off["code"] == "color_not_in_pallet"
    assert [x["name"] for x in sandbox.get(f"/_sandbox/phones/{ALICE}/labels")] == ["Hot lead"]


def test_label_lookups_and_deletes_answer_as_wa_js_does(business: Page) -> None:
    assert run(business, "async () => WPP.labels.getLabelById('9')")["code"] == "canot_get_label_error"
    assert run(business, "async () => WPP.labels.editLabel('9', { name: 'X' })")["code"] == "label_not_exist"
    gone = run(business, "async () => WPP.labels.deleteLabel('9')")["value"]
    assert gone == {"id": "9", "deleteLabelResult": False}  # no throw for an unknown id
    unknown_chat = run(
        business,
        "async () => WPP.labels.addOrRemoveLabels('15559990000@c.us', [{ labelId: '1', type: 'add' }])",
    )
    assert unknown_chat["code"] == "chat_not_found"  # assertGetChat: only chats in the store


def test_chats_are_listed_by_label_id_or_name(business: Page, sandbox: SandboxClient) -> None:
    script = """async () => {
      const label = await WPP.labels.addNewLabel('Paid', {});
      const chat = (await WPP.chat.list()).find((c) => !c.isGroup);
      await WPP.labels.addOrRemoveLabels(chat.id, [{ labelId: label.id, type: 'add' }]);
      const byId = (await WPP.chat.list({ withLabels: [label.id] })).length;
      const byName = (await WPP.chat.list({ withLabels: ['Paid'] })).length;
      const none = (await WPP.chat.list({ withLabels: ['Unknown'] })).length;
      return [byId, byName, none, WPP.chat.get(chat.id).labels];
    }"""
    assert run(business, script) == {"value": [1, 1, 0, ["1"]]}
    assert sandbox.get(f"/_sandbox/phones/{ALICE}/labels")[0]["chats"] == [f"{BOB}@c.us"]


def test_an_account_that_is_not_a_business_one_reads_no_labels_and_writes_none(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    sandbox.phone(ALICE, "Alice")
    page = open_page()
    link_by_qr(page, sandbox, ALICE)
    assert run(page, "async () => WPP.labels.getAllLabels()") == {"value": []}  # no business check on reads
    for script in (
        "async () => WPP.labels.addNewLabel('Lead', {})",
        "async () => WPP.labels.getLabelColorPalette()",
        "async () => WPP.labels.deleteLabel('1')",
    ):
        assert run(page, script)["code"] == "is_not_business", script


def test_newsletter_calls_refuse_what_wa_js_refuses(business: Page, sandbox: SandboxClient) -> None:
    assert run(business, "async () => WPP.newsletter.follow('12345')")["code"] == "invalid_newsletter_id"
    assert run(business, "async () => WPP.newsletter.unfollow('12345')")["code"] == "invalid_newsletter_id"
    assert (
        run(business, "async () => WPP.newsletter.destroy('12345')")["code"] == "send_correctly_newsletter_id"
    )
    assert run(business, "async () => WPP.newsletter.search('  ', {})")["code"] == "invalid_search_query"
    mute = run(business, "async () => WPP.newsletter.mute('120363999999999999@newsletter', 'yes')")
    assert mute["code"] == "invalid_mute_value"
    missing = run(business, "async () => WPP.newsletter.follow('120363999999999999@newsletter')")
    assert missing["code"] == "newsletter_follow_failed"
    # unfollow answers true for a channel not followed (WhatsApp's 400 is read as done).
    assert run(business, "async () => WPP.newsletter.unfollow('120363999999999999@newsletter')") == {
        "value": True
    }


def test_a_created_newsletter_is_listed_as_a_newsletter_chat_and_destroyed(business: Page) -> None:
    script = """async () => {
      const made = await WPP.newsletter.create('Shop', { description: 'News' });
      const listed = await WPP.chat.list({ onlyNewsletter: true });
      const meta = listed[0].newsletterMetadata;
      const destroyed = await WPP.newsletter.destroy(made.idJid);
      return [made.inviteLink.endsWith(made.inviteCode), listed.length, listed[0].isNewsletter,
              meta.membershipType, destroyed, (await WPP.chat.list({ onlyNewsletter: true })).length];
    }"""
    assert run(business, script) == {"value": [True, 1, True, "owner", True, 0]}
