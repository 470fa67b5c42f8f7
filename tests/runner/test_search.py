"""Message search end to end (issue 18): the OpenWA SDK's `search.search` through the API, a real runner,
Chromium and the sandbox.

Alice's and Carol's accounts are two sessions; Bob is a phone writing to both. What Bob writes (inbound) and
what Alice sends through the SDK (outbound) is found by word prefixes and filters; an edit and a revoke on
WhatsApp change what is found; a key scoped to Alice's session never sees Carol's messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from openwa import OpenWAClient
from openwa.errors import OpenWAApiError

from tests.runner.conftest import Stack, wait_for
from tests.runner.test_messaging import ALICE, BOB, BOB_CHAT, CAROL
from tests.runner.test_session_lifecycle import raw_qr, wait_status

pytestmark = pytest.mark.e2e


@dataclass
class Accounts:
    stack: Stack
    client: OpenWAClient
    alice: str
    carol: str


def _link(stack: Stack, client: OpenWAClient, number: str, name: str) -> str:
    """A new session linked to phone `number` by its QR, on the runner already running."""
    session_id: str = client.sessions.create({"name": name})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{number}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    return session_id


@pytest.fixture(scope="module")
def accounts(stack: Stack) -> Iterator[Accounts]:
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-search")
    client = stack.client()
    yield Accounts(stack, client, _link(stack, client, ALICE, "alice"), _link(stack, client, CAROL, "carol"))
    stack.stop_runners()


def _ids(result: Any) -> list[str]:
    return [hit["messageId"] for hit in result["hits"]]


def _bob_writes(stack: Stack, to: str, text: str) -> str:
    """Bob's message to `to`; its stanza id (the key WhatsApp revokes it by)."""
    sent: dict[str, Any] = stack.control(
        "POST", f"/phones/{BOB}/messages", json={"to": f"{to}@c.us", "text": text}
    )
    return str(sent["stanzaId"])


def test_inbound_and_outbound_messages_are_found_by_word_prefix_and_filters(accounts: Accounts) -> None:
    stack, search = accounts.stack, accounts.client.search
    _bob_writes(stack, ALICE, "Café meeting at noon?")
    _bob_writes(stack, CAROL, "Café meeting moved to Friday")
    sent = accounts.client.messages.send_text(
        accounts.alice, {"chatId": BOB_CHAT, "text": "Cafeteria meeting confirmed"}
    )

    found = wait_for(
        lambda: (result := search.search({"q": "CAF meet"}))["total"] == 3 and result,
        30,
        "three messages found",
    )

    assert found["provider"] == "builtin-redis"
    assert {(hit["sessionId"], hit["direction"]) for hit in found["hits"]} == {
        (accounts.alice, "incoming"),
        (accounts.carol, "incoming"),
        (accounts.alice, "outgoing"),
    }
    outbound = search.search({"q": "cafeteria", "direction": "outgoing"})
    assert _ids(outbound) == [sent["messageId"]]
    assert outbound["hits"][0]["body"] == "Cafeteria meeting confirmed"
    assert outbound["hits"][0]["chatId"] == BOB_CHAT
    from_bob = search.search({"q": "café", "from": BOB_CHAT})
    assert {hit["body"] for hit in from_bob["hits"]} == {
        "Café meeting at noon?",
        "Café meeting moved to Friday",
    }
    in_alices_chat = search.search({"q": "meet", "chatId": BOB_CHAT, "type": "text", "direction": "incoming"})
    assert {hit["sessionId"] for hit in in_alices_chat["hits"]} == {accounts.alice, accounts.carol}
    assert search.search({"q": "friday noon"})["hits"] == []


def test_a_scoped_key_never_sees_another_sessions_messages(accounts: Accounts) -> None:
    body = {"name": "alice-only", "role": "operator", "allowedSessions": [accounts.alice]}
    created = accounts.client.request("POST", "/api/auth/api-keys", body=body)
    scoped = OpenWAClient(accounts.stack.api_url, created["apiKey"], timeout=30.0)

    mine = scoped.search.search({"q": "caf"})

    assert {hit["sessionId"] for hit in mine["hits"]} == {accounts.alice}
    assert mine["total"] == len(mine["hits"]) == 2
    assert scoped.search.search({"q": "friday"})["hits"] == []
    assert scoped.search.search({"q": "caf", "sessionId": accounts.carol})["hits"] == []


def test_an_edit_and_a_revoke_on_whatsapp_change_what_is_found(accounts: Accounts) -> None:
    stack, search, messages = accounts.stack, accounts.client.search, accounts.client.messages
    stanza = _bob_writes(stack, ALICE, "Parcel left at the door")
    sent = messages.send_text(accounts.alice, {"chatId": BOB_CHAT, "text": "Thanks, parcel received"})
    wait_for(lambda: search.search({"q": "parcel"})["total"] == 2, 30, "both parcel messages found")

    messages.edit_message(
        accounts.alice, {"chatId": BOB, "messageId": sent["messageId"], "body": "Thanks, got it"}
    )
    stack.control("POST", f"/phones/{BOB}/revoke", json={"messageId": stanza})

    wait_for(lambda: search.search({"q": "parcel"})["total"] == 0, 30, "the revoke and the edit indexed")
    assert _ids(search.search({"q": "got"})) == [sent["messageId"]]


def test_a_bad_query_is_400_with_a_code(accounts: Accounts) -> None:
    with pytest.raises(OpenWAApiError) as refused:
        accounts.client.search.search({"q": "hi", "limit": 101})
    assert (refused.value.status, refused.value.code) == (400, "VALIDATION_ERROR")
