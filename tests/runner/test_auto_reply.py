"""Auto-reply rules end to end (issue 18): rules written through the API, inbound messages from the sandbox's
phones, the reply decided by the `functions.jobs.auto_reply` job in a real `openwa worker`, sent by the real
runner through Chromium, and checked where WhatsApp shows it (the phones' inboxes).

Alice's account is the session; Bob and Carol are phones. One linked session serves the module and the
stories run in order. "Nothing was sent" is never a timeout: each job's decision is read from RQ, and a
marker sent afterwards through the same session queue must arrive before the phone's inbox is judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rq.job import Job
from rq.registry import FinishedJobRegistry

from functions.queueing import AUTO_REPLY_JOB, DEFAULT_QUEUE
from functions.state.keys import Keys
from tests.runner.conftest import Stack, wait_for
from tests.runner.test_messaging import ALICE, BOB, CAROL, Linked, link_alice

pytestmark = pytest.mark.e2e

ALICE_JID, BOB_JID = f"{ALICE}@c.us", f"{BOB}@c.us"
HOURS_REPLY = "We are open 9:00-17:00, Monday to Friday."
GROUP_REPLY = "Hello! Alice will be with you shortly."
COOLDOWN = 4


@pytest.fixture(scope="module")
def linked(stack: Stack) -> Iterator[Linked]:
    """Alice's linked session, a runner, and one `openwa worker` (it runs the auto-reply jobs)."""
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-auto-reply")
    stack.start_worker("worker-auto-reply")
    yield link_alice(stack, "alice-auto-reply")
    stack.stop_runners()


def rules_api(linked: Linked, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
    """The automation-rules routes (the SDK has no resource for them), with the admin key."""
    url = f"/api/sessions/{linked.session_id}/automation-rules{path}"
    with linked.http() as http:
        return http.request(method, url, **kwargs)


def decisions(linked: Linked) -> list[str]:
    """What each finished auto-reply job decided (`replied`, `cooling-down`, `no-rule`...), oldest first."""
    conn = linked.stack.redis()
    try:
        registry = FinishedJobRegistry(DEFAULT_QUEUE, connection=conn)
        jobs = [job for job in Job.fetch_many(registry.get_job_ids(), connection=conn) if job is not None]
        ours = sorted((job for job in jobs if job.func_name == AUTO_REPLY_JOB), key=lambda job: job.ended_at)
        return [str(job.return_value()) for job in ours]
    finally:
        conn.close()


def next_decision(linked: Linked, before: int) -> str:
    """The decision of the job after the `before` already made (waits for it)."""

    def made() -> list[str] | None:
        found = decisions(linked)
        return found if len(found) > before else None

    found: list[str] = wait_for(made, 30, "an auto-reply")
    assert len(found) == before + 1, found
    return str(found[-1])


def bob_says(linked: Linked, text: str, to: str = ALICE_JID) -> str:
    """Bob sends `text` to `to` and the job for it decides; returns the decision."""
    before = len(decisions(linked))
    linked.stack.control("POST", f"/phones/{BOB}/messages", json={"to": to, "text": text})
    return next_decision(linked, before)


def received(linked: Linked, number: str, body: str) -> list[dict[str, Any]]:
    """What phone `number` received from Alice with this body."""
    return [m for m in linked.inbox(number) if m["from"] == ALICE_JID and m["body"] == body]


def after_marker(linked: Linked, number: str, chat: str, body: str) -> list[dict[str, Any]]:
    """Alice's messages with `body` at phone `number`, judged once a marker Alice sends to `chat` (queued
    behind any reply already accepted) has arrived there."""
    marker = f"marker {len(linked.inbox(number))}"
    linked.client.messages.send_text(linked.session_id, {"chatId": chat, "text": marker})
    wait_for(lambda: received(linked, number, marker), 20, f"{marker!r} at {number}'s phone")
    return received(linked, number, body)


def test_a_rule_answers_once_per_cooldown_and_never_its_own_messages(linked: Linked) -> None:
    created = rules_api(
        linked,
        "POST",
        json={
            "name": "Opening hours",
            "replyText": HOURS_REPLY,
            "conditions": [{"field": "body", "operator": "contains", "value": "hours"}],
            "cooldownSeconds": COOLDOWN,
        },
    )
    assert created.status_code == 201, created.json()
    rule = created.json()

    assert bob_says(linked, "What are your opening hours?") == "replied"
    wait_for(lambda: received(linked, BOB, HOURS_REPLY), 20, "the auto-reply at Bob's phone")
    assert bob_says(linked, "Hours on Sunday too?") == "cooling-down"
    # Alice writing from her phone and through the API: her own messages, never answered.
    linked.stack.control("POST", f"/phones/{ALICE}/messages", json={"to": BOB_JID, "text": "hours: see site"})
    assert len(after_marker(linked, BOB, BOB_JID, HOURS_REPLY)) == 1
    assert decisions(linked) == ["replied", "cooling-down"]

    # The cooldown lives in Redis, per rule and chat; once it has expired the rule answers again.
    key = Keys(linked.stack.settings.redis_prefix).auto_reply_cooldown(linked.session_id, rule["id"], BOB_JID)
    conn = linked.stack.redis()
    try:
        wait_for(lambda: not conn.exists(key), COOLDOWN + 10, "the cooldown to expire")
    finally:
        conn.close()
    assert bob_says(linked, "And the hours tomorrow?") == "replied"
    wait_for(lambda: len(received(linked, BOB, HOURS_REPLY)) == 2, 20, "a second auto-reply")
    # Ordinary sends: recorded as Alice's outgoing texts, as send-text would record them.
    page = linked.client.messages.list(linked.session_id, {"chatId": BOB_JID, "limit": 100})
    replies = [m for m in page["messages"] if m["body"] == HOURS_REPLY]
    assert [(m["direction"], m["type"]) for m in replies] == [("outgoing", "text")] * 2


def test_group_messages_are_ignored_unless_the_rule_allows_and_a_disabled_rule_does_nothing(
    linked: Linked,
) -> None:
    stack = linked.stack
    group = stack.control(
        "POST", "/groups", json={"owner": BOB, "subject": "Club", "participants": [ALICE, CAROL]}
    )
    group_id = group["id"]
    rule = rules_api(
        linked,
        "POST",
        json={
            "name": "Greeting",
            "replyText": GROUP_REPLY,
            "conditions": [{"field": "body", "operator": "contains", "value": "hello"}],
            "cooldownSeconds": 0,
        },
    ).json()
    one = f"/{rule['id']}"

    assert bob_says(linked, "hello everyone", to=group_id) == "no-rule"
    assert rules_api(linked, "PUT", one, json={"includeGroups": True}).status_code == 200
    assert bob_says(linked, "hello again", to=group_id) == "replied"
    wait_for(lambda: received(linked, CAROL, GROUP_REPLY), 20, "the auto-reply in the group")

    assert rules_api(linked, "PUT", one, json={"enabled": False}).json()["enabled"] is False
    assert bob_says(linked, "hello, anyone?", to=group_id) == "no-rule"
    assert bob_says(linked, "hello Alice") == "no-rule"  # not in the direct chat either
    assert len(after_marker(linked, CAROL, group_id, GROUP_REPLY)) == 1
    assert [m["to"] for m in received(linked, BOB, GROUP_REPLY)] == [group_id]
