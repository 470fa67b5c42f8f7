"""Bulk batches, send pacing and scheduled sends through the OpenWA SDK, on a real runner and the sandbox.

Alice's account is the session, on a runner with send pacing on (cold-reachout cap 2 a day, the breaker
after 2 failures, typing up to 1 s). Bob and Carol wrote to Alice first, so they are not cold; Dave, Erin
and Frank are strangers. The API of this stack runs with pacing off: every refusal here is the session
process's (the message ends `failed` with SEND_PACING_LIMITED); request-time 429s are tested in
`tests/integration/test_bulk_and_pacing_api.py`.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.clock import iso, utcnow
from functions.state.keys import Keys
from functions.state.pacing import PacingState
from tests.runner.conftest import Stack, wait_for
from tests.runner.test_messaging import PNG, Linked, link_alice
from tests.runner.test_session_lifecycle import raw_qr, status_of, wait_status

pytestmark = pytest.mark.e2e

ALICE, BOB, CAROL = "15550001111", "15550002222", "15550003333"
DAVE, ERIN, FRANK, HANK = "15550004444", "15550005555", "15550006666", "15550008888"
BOB_CHAT, CAROL_CHAT = f"{BOB}@c.us", f"{CAROL}@c.us"
PACING = {
    "SEND_PACING_ENABLED": "true",
    "SEND_PACING_WARMUP_SCHEDULE": "200",
    "SEND_PACING_COLD_DAILY_CAP": "2",
    "SEND_PACING_BREAKER_THRESHOLD": "2",
    "SEND_PACING_BREAKER_COOLDOWN_MS": "4000",
    "SIMULATE_TYPING_MAX_MS": "1000",
}
QUICK = {"delayBetweenMessages": 1000, "randomizeDelay": False}
# A refused send ends failed by the send's own error, or by WhatsApp's failed ack if that came first.
WHATSAPP_REFUSALS = ("SEND_FAILED", "WHATSAPP_ACK_ERROR")


@pytest.fixture(scope="module")
def linked(stack: Stack) -> Iterator[Linked]:
    """Alice linked on a pacing runner; Bob and Carol have written to her."""
    stack.reset()
    people = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol", DAVE: "Dave", ERIN: "Erin", FRANK: "Frank"}
    for number, name in {**people, HANK: "Hank"}.items():
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-pacing", **PACING)
    linked = link_alice(stack, "alice-bulk")
    client, session_id = linked.client, linked.session_id
    for number in (BOB, CAROL):
        stack.control("POST", f"/phones/{number}/messages", json={"to": f"{ALICE}@c.us", "text": "hi Alice"})

    def heard_from_both() -> bool:
        page = client.messages.list(session_id, {"limit": 100})
        return {m["from"] for m in page["messages"] if m["direction"] == "incoming"} >= {BOB_CHAT, CAROL_CHAT}

    wait_for(heard_from_both, 20, "Bob's and Carol's messages")
    yield linked
    stack.stop_runners()


def send_text(linked: Linked, to: str, text: str, **extra: Any) -> str:
    accepted = linked.client.messages.send_text(linked.session_id, {"chatId": to, "text": text, **extra})
    message_id: str = accepted["messageId"]
    return message_id


def settled(linked: Linked, message_id: str) -> dict[str, Any]:
    """The record once it is no longer pending."""
    found: dict[str, Any] = wait_for(
        lambda: (record := linked.record(message_id))["status"] != "pending" and record, 20, f"{message_id}"
    )
    return found


def failed_event(linked: Linked, message_id: str) -> dict[str, Any] | None:
    events = linked.stack.events(linked.session_id)
    return next((d for name, d in events if name == "message.failed" and d["id"] == message_id), None)


def finished_batch(linked: Linked, batch_id: str, timeout: float = 20) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        batch = linked.client.messages.batch_status(linked.session_id, batch_id)
        return dict(batch) if batch["status"] in ("completed", "failed", "cancelled") else None

    found: dict[str, Any] = wait_for(probe, timeout, f"batch {batch_id} to finish", interval=0.25)
    return found


def test_a_text_goes_out_after_typing_for_a_while(linked: Linked) -> None:
    message_id = send_text(linked, BOB, "Hello Bob, how are you?")  # 23 characters: over the 1 s bound
    record = settled(linked, message_id)
    assert record["status"] in ("sent", "delivered", "read")
    typed = datetime.fromisoformat(record["updatedAt"]) - datetime.fromisoformat(record["createdAt"])
    assert typed >= timedelta(seconds=0.85), typed  # 1 s less its 15 % jitter
    shown = linked.stack.control("GET", f"/phones/{BOB}/presence")
    assert [p["state"] for p in shown if p["from"] == f"{ALICE}@c.us"] == ["composing"]


def test_a_batch_goes_out_in_order_a_delay_apart_with_its_variables(linked: Linked) -> None:
    people = [(BOB_CHAT, "Bob"), (CAROL_CHAT, "Carol")] * 2
    messages: list[dict[str, Any]] = [
        {
            "chatId": chat,
            "type": "text",
            "content": {"text": "Hi {{name}}, #{{n}}"},
            "variables": {"name": name, "n": str(n)},
        }
        for n, (chat, name) in enumerate(people)
    ]
    picture = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png"}
    content = {"image": picture, "caption": "For {{name}}"}
    messages.append({"chatId": BOB, "type": "image", "content": content, "variables": {"name": "Bob"}})
    accepted = linked.client.messages.send_bulk(linked.session_id, {"messages": messages, "options": QUICK})
    assert (accepted["status"], accepted["totalMessages"]) == ("pending", 5)

    batch = finished_batch(linked, accepted["batchId"])
    assert batch["status"] == "completed"
    assert batch["progress"] == {"total": 5, "sent": 5, "failed": 0, "pending": 0, "cancelled": 0}
    assert batch["completedAt"] >= batch["startedAt"]
    # Each message is due a second after the one before (its record's timestamp), and none went out early.
    due = [linked.record(result["messageId"])["timestamp"] for result in batch["results"]]
    assert [b - a for a, b in itertools.pairwise(due)] == [1, 1, 1, 1]
    sent_at = [datetime.fromisoformat(result["sentAt"]) for result in batch["results"]]
    assert all(sent >= datetime.fromtimestamp(at, UTC) for sent, at in zip(sent_at, due, strict=True))
    assert (sent_at[-1] - sent_at[0]).total_seconds() >= 3.5
    bobs = [m for m in linked.inbox(BOB) if m["body"].startswith("Hi Bob, #") or m.get("caption")]
    assert [m.get("caption") or m["body"] for m in bobs][-3:] == ["Hi Bob, #0", "Hi Bob, #2", "For Bob"]
    assert base64.b64decode(bobs[-1]["media"]["base64"]) == PNG
    assert [m["body"] for m in linked.inbox(CAROL)][-2:] == ["Hi Carol, #1", "Hi Carol, #3"]


def test_cancelling_a_batch_stops_what_is_not_sent_yet(linked: Linked) -> None:
    sid, messages = linked.session_id, linked.client.messages
    items = [{"chatId": BOB, "type": "text", "content": {"text": f"countdown {n}"}} for n in range(5)]
    accepted = messages.send_bulk(sid, {"batchId": "countdown", "messages": items, "options": QUICK})
    wait_for(lambda: messages.batch_status(sid, "countdown")["progress"]["sent"] >= 1, 10, "the first send")

    cancelled = messages.cancel_batch(sid, accepted["batchId"])
    assert cancelled["status"] == "cancelled"
    progress = cancelled["progress"]
    assert progress["pending"] == 0
    assert progress["sent"] + progress["cancelled"] == 5
    assert progress["cancelled"] >= 2
    last = datetime.fromisoformat(accepted["estimatedCompletionTime"])
    time.sleep(max(0.0, (last - datetime.now(UTC)).total_seconds()) + 1.5)  # every job came up, and skipped
    batch = messages.batch_status(sid, "countdown")
    assert batch["progress"] == progress
    sent = {r["messageId"].rsplit("_", 1)[1] for r in batch["results"] if r["status"] == "sent"}
    arrived = {m["id"].rsplit("_", 1)[1] for m in linked.inbox(BOB) if m["body"].startswith("countdown")}
    assert arrived == sent
    skipped = next(r for r in batch["results"] if r["status"] == "cancelled")
    assert linked.record(skipped["messageId"])["error"]["code"] == "BATCH_CANCELLED"


def test_stop_on_error_ends_a_batch_at_its_first_failure(linked: Linked) -> None:
    linked.stack.control("POST", "/faults", json={"number": ALICE, "kind": "error_463", "count": 1})
    items = [{"chatId": CAROL, "type": "text", "content": {"text": f"fragile {n}"}} for n in range(3)]
    options = {**QUICK, "stopOnError": True}
    accepted = linked.client.messages.send_bulk(linked.session_id, {"messages": items, "options": options})

    batch = finished_batch(linked, accepted["batchId"])
    assert batch["status"] == "failed"
    assert batch["progress"] == {"total": 3, "sent": 0, "failed": 1, "pending": 0, "cancelled": 2}
    codes = [r.get("error", {}).get("code") for r in batch["results"]]
    assert codes[0] in WHATSAPP_REFUSALS
    assert codes[1:] == ["BATCH_STOPPED", "BATCH_STOPPED"]
    time.sleep(2.5)
    assert not [m for m in linked.inbox(CAROL) if m["body"].startswith("fragile")]
    send_text(linked, CAROL, "all good again")  # a success ends the failure run the breaker counts


def test_new_conversations_over_the_cold_cap_fail_with_send_pacing_limited(linked: Linked) -> None:
    for number in (DAVE, ERIN):
        assert settled(linked, send_text(linked, number, "Hello, we have not met"))["status"] != "failed"
    refused = settled(linked, send_text(linked, FRANK, "Hello, we have not met"))
    assert refused["status"] == "failed"
    assert (refused["error"]["code"], refused["error"]["rule"]) == ("SEND_PACING_LIMITED", "cold_daily_cap")
    assert refused["error"]["retryAfterSeconds"] > 0
    event = wait_for(lambda: failed_event(linked, refused["id"]), 10, "message.failed")
    assert event["error"]["code"] == "SEND_PACING_LIMITED"
    assert linked.inbox(FRANK) == []
    again = settled(linked, send_text(linked, DAVE, "Hello again, Dave"))  # known now: not a reachout
    assert again["status"] != "failed"


def test_consecutive_failures_open_the_breaker_for_its_cool_down(linked: Linked) -> None:
    linked.stack.control("POST", "/faults", json={"number": ALICE, "kind": "error_463", "count": 2})
    for text in ("refused once", "refused twice"):
        assert settled(linked, send_text(linked, BOB, text))["error"]["code"] in WHATSAPP_REFUSALS
    paused = settled(linked, send_text(linked, BOB, "while paused"))
    assert (paused["error"]["code"], paused["error"]["rule"]) == ("SEND_PACING_LIMITED", "breaker_open")
    assert 1 <= paused["error"]["retryAfterSeconds"] <= 4
    time.sleep(paused["error"]["retryAfterSeconds"])
    assert settled(linked, send_text(linked, BOB, "after the cool-down"))["status"] != "failed"
    assert not [
        m for m in linked.inbox(BOB) if m["body"] in ("refused once", "refused twice", "while paused")
    ]


def test_a_scheduled_send_goes_out_at_its_time_and_not_before_and_a_past_one_at_once(linked: Linked) -> None:
    send_at = datetime.fromtimestamp(int(time.time()) + 4, UTC)
    later = send_text(linked, BOB, "see you at the time", sendAt=send_at.isoformat())
    past = send_text(linked, BOB, "from the past", sendAt=(send_at - timedelta(hours=1)).isoformat())

    linked.delivered(BOB, past)
    key = later.rsplit("_", 1)[1]
    while time.time() < send_at.timestamp() - 0.3:
        assert not [m for m in linked.inbox(BOB) if m["id"].endswith(key)], "sent before its time"
        time.sleep(0.2)
    got = linked.delivered(BOB, later)
    assert got["t"] >= int(send_at.timestamp())
    assert datetime.fromisoformat(settled(linked, later)["updatedAt"]) >= send_at  # when it was sent


def test_queued_and_scheduled_sends_wait_for_a_session_started_and_linked_later(linked: Linked) -> None:
    stack, client = linked.stack, linked.client
    session_id = client.sessions.create({"name": "hank-later"})["id"]
    hank = Linked(stack, client, session_id)
    queued = send_text(hank, BOB, "queued before the start", queue=True)
    scheduled_at = datetime.fromtimestamp(int(time.time()) + 2, UTC)
    scheduled = send_text(hank, BOB, "due before the start", sendAt=scheduled_at.isoformat())
    time.sleep(max(0.0, scheduled_at.timestamp() - time.time()) + 1.5)
    assert {hank.record(m)["status"] for m in (queued, scheduled)} == {"pending"}

    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{HANK}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    try:
        assert hank.delivered(BOB, queued)["body"] == "queued before the start"
        assert hank.delivered(BOB, scheduled)["body"] == "due before the start"
    finally:
        client.sessions.stop(session_id)


def test_pacing_counts_survive_a_new_runner_which_enforces_the_warm_up_cap(linked: Linked) -> None:
    stack, client, session_id = linked.stack, linked.client, linked.session_id
    assert settled(linked, send_text(linked, BOB, "before the restart"))["status"] != "failed"
    conn = stack.redis()
    try:
        used = PacingState(conn, Keys(stack.settings.redis_prefix)).read(session_id, phone=None, chat_id=None)
    finally:
        conn.close()
    assert used.sent >= 1
    stack.stop_runners()
    restarted = iso(utcnow())
    stack.start_runner("runner-strict", **{**PACING, "SEND_PACING_WARMUP_SCHEDULE": str(used.sent)})

    def ready_again() -> bool:
        session = status_of(client, session_id)
        return session["status"] == "ready" and (session["connectedAt"] or "") > str(restarted)

    wait_for(ready_again, 40, "the session on the new runner")
    refused = settled(linked, send_text(linked, BOB, "one too many"))
    assert (refused["error"]["code"], refused["error"]["rule"]) == ("SEND_PACING_LIMITED", "daily_cap")
