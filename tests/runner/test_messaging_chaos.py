"""Chaos story: a thousand sends through the API while the runner holding the session is SIGKILLed.

Alice's account is the session, held by one of two runners; four phones each get 250 numbered texts, sent
through the API one after the other per phone (the order a client expects them in), with `"queue": true`.
The first 600 go at once; once 200 have reached the phones, the holding runner is SIGKILLed and the other
one takes the session over, while the last 400 keep coming, a few per second: some are queued before the
session is seen down, some held while it moves, the rest accepted once it is ready again. Every phone must
end up with each of its texts exactly once and in order, and every record must end sent (or further).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from redis import Redis
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

from functions.queueing import session_queue
from functions.state.keys import Keys
from runner.leases import LeaseStore
from runner.sandbox.feed import PhoneFeed
from tests.runner.conftest import LEASE_TTL_SECONDS, Stack, wait_for
from tests.runner.test_session_lifecycle import PHONE, raw_qr, wait_status

pytestmark = pytest.mark.e2e

RECIPIENTS = ("15550003001", "15550003002", "15550003003", "15550003004")
PER_CHAT = 250
SENT_BEFORE_KILL = 150  # per chat, at once; the rest goes out paced, through the failover and after it
PACED_PER_SECOND = 4.0  # per chat
KILL_AFTER_DELIVERED = 200
SENT_OR_FURTHER = {"sent", "delivered", "read"}


def text(number: str, n: int) -> str:
    return f"to {number} #{n:03d}"


class Senders:
    """One thread per recipient posting its texts in order, each after the previous one was accepted: the
    first `SENT_BEFORE_KILL` at once, the others at `PACED_PER_SECOND` once `resume` is set."""

    def __init__(self, stack: Stack, session_id: str) -> None:
        self.stack, self.session_id = stack, session_id
        self.accepted: dict[str, list[str]] = {number: [] for number in RECIPIENTS}
        self.refused: list[tuple[str, int, str]] = []
        self.resume = threading.Event()
        self._threads = [threading.Thread(target=self._send_all, args=(n,), daemon=True) for n in RECIPIENTS]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(thread.is_alive() for thread in self._threads), "the senders did not finish"

    def _send_all(self, number: str) -> None:
        headers = {"X-API-Key": self.stack.master_key}
        path = f"/api/sessions/{self.session_id}/messages/send-text"
        with httpx.Client(base_url=self.stack.api_url, headers=headers, timeout=20.0) as http:
            for n in range(PER_CHAT):
                if n >= SENT_BEFORE_KILL:
                    self.resume.wait(300)
                    time.sleep(1 / PACED_PER_SECOND)
                # `queue`: a send accepted while the session moves waits for it instead of being refused.
                body = {"chatId": number, "text": text(number, n), "queue": True}
                response = http.post(path, json=body)
                if response.status_code != 201:
                    self.refused.append((number, n, response.text))
                    return
                self.accepted[number].append(response.json()["messageId"])


def inbox_bodies(stack: Stack, number: str) -> list[str]:
    return [message["body"] for message in stack.control("GET", f"/phones/{number}/messages")]


class Arrivals:
    """Texts reaching the recipients, counted as the sandbox pushes them (cheaper than polling inboxes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def __call__(self, message: dict[str, Any], at: float) -> None:
        with self._lock:
            self._count += 1

    def total(self) -> int:
        with self._lock:
            return self._count


def records(stack: Stack, session_id: str) -> list[dict[str, Any]]:
    """Every stored message of the session (the API pages by 100)."""
    found: list[dict[str, Any]] = []
    headers = {"X-API-Key": stack.master_key}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=20.0) as http:
        while True:
            params = {"limit": 100, "offset": len(found)}
            page = http.get(f"/api/sessions/{session_id}/messages", params=params).raise_for_status().json()
            found += page["messages"]
            if not page["messages"] or len(found) >= page["total"]:
                return found


def settle(arrived: Arrivals, wanted: int, quiet: float, timeout: float) -> int:
    """Wait until `wanted` texts arrived, or none arrived for `quiet` seconds; returns how many did."""
    deadline, last, last_change = time.monotonic() + timeout, -1, time.monotonic()
    while (count := arrived.total()) < wanted and time.monotonic() < deadline:
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > quiet:
            break
        time.sleep(0.05)
    return count


def queue_state(stack: Stack, session_id: str, message_id: str | None) -> str:
    """Where the session's send jobs are (queue, RQ's intermediate list and registries, the hold list), and
    the state of the job that sends `message_id`."""
    with stack.redis() as conn:
        return _queue_state(conn, stack.settings.redis_prefix, session_id, message_id)


def _queue_state(conn: Redis, prefix: str, session_id: str, message_id: str | None) -> str:
    queue = session_queue(conn, session_id)
    places = {
        "queued": queue.get_job_ids(),
        "intermediate": IntermediateQueue(queue.key, conn).get_job_ids(),
        "started": StartedJobRegistry(queue=queue).get_job_ids(),
        "failed": FailedJobRegistry(queue=queue).get_job_ids(),
        "finished": FinishedJobRegistry(queue=queue).get_job_ids(),
    }
    held = conn.zcard(Keys(prefix).held_messages(session_id))
    found = "not found"
    for place, job_ids in places.items():
        for job in Job.fetch_many(job_ids, connection=conn):
            if job is not None and message_id is not None and job.args[1:] == (message_id,):
                found = f"job {job.id} in {place}, status {job.get_status()}, meta {job.meta}"
    sizes = {place: len(job_ids) for place, job_ids in places.items()}
    return f"jobs {sizes}, held {held}; the first missing message's {found}"


def explain(stack: Stack, session_id: str, number: str, got: list[str], ids: list[str]) -> str:
    """Which of `number`'s texts are missing, doubled or out of place, with their records' status."""
    expected = [text(number, n) for n in range(PER_CHAT)]
    doubled = sorted(body for body, count in Counter(got).items() if count > 1)
    missing = [n for n, body in enumerate(expected) if body not in got]
    first_out = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), None)
    by_id = {r["id"]: r for r in records(stack, session_id)}
    status = {n: by_id.get(ids[n], {}).get("status") for n in missing[:5] if n < len(ids)}
    jobs = queue_state(stack, session_id, ids[missing[0]] if missing and missing[0] < len(ids) else None)
    return (
        f"{number}: {len(got)} of {PER_CHAT} arrived; doubled {doubled[:5]}; missing {missing[:10]} "
        f"(record status {status}); first out of order at position {first_out}: "
        f"{got[first_out - 2 : first_out + 3] if first_out else None}; {jobs}"
    )


def linked_on_two_runners(stack: Stack) -> tuple[str, dict[str, subprocess.Popen[bytes]]]:
    """Alice's session, linked and ready on one of two runners (both started here); the recipients exist."""
    client = stack.client()
    for number in (PHONE, *RECIPIENTS):
        stack.control("POST", "/phones", json={"number": number, "name": f"Phone {number[-4:]}"})
    runners = {"runner-a": stack.start_runner("runner-a"), "runner-b": stack.start_runner("runner-b")}
    session_id = client.sessions.create({"name": "chaos"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{PHONE}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    manifest = stack.workdir / "data/storage/objects/auth" / session_id / "manifest.json"
    wait_for(manifest.exists, 10, "the auth snapshot after linking")
    return session_id, runners


def wait_all_sent(stack: Stack, session_id: str, timeout: float) -> list[dict[str, Any]]:
    """Every record of the session, once none is left pending (or failed); fails naming the stragglers."""
    deadline = time.monotonic() + timeout
    while True:
        stored = records(stack, session_id)
        late = [r for r in stored if r["status"] not in SENT_OR_FURTHER]
        if not late:
            return stored
        if time.monotonic() > deadline:
            statuses = Counter(r["status"] for r in late)
            pytest.fail(
                f"records not sent: {dict(statuses)}, e.g. {[(r['id'], r['body']) for r in late[:3]]}"
            )
        time.sleep(0.5)


# A chaos test through real browsers: on this 2-core machine it takes about a minute when it is quiet, and
# several times that when other suites share it.
@pytest.mark.timeout(600)
def test_1000_queued_sends_with_the_runner_sigkilled_arrive_exactly_once_and_in_order(
    fresh_stack: Stack,
) -> None:
    stack, started = fresh_stack, time.monotonic()
    session_id, runners = linked_on_two_runners(stack)
    leases = LeaseStore(stack.redis(), Keys(stack.settings.redis_prefix), LEASE_TTL_SECONDS)
    first = leases.holder(session_id)
    assert first is not None

    arrived, senders = Arrivals(), Senders(stack, session_id)
    with contextlib.ExitStack() as feeds:
        for number in RECIPIENTS:
            feeds.enter_context(PhoneFeed(stack.sandbox_url, number, arrived))
        sending = time.monotonic()
        senders.start()
        wait_for(lambda: arrived.total() >= KILL_AFTER_DELIVERED, 180, "the first hundreds", interval=0.02)
        runners[first.runner_id].kill()
        senders.resume.set()
        killed_at, at_kill = time.monotonic(), arrived.total()
        accepted_at_kill = sum(len(ids) for ids in senders.accepted.values())
        senders.join(180)
        assert not senders.refused, senders.refused[:3]
        total = settle(arrived, len(RECIPIENTS) * PER_CHAT, quiet=45, timeout=240)
        time.sleep(1.0)  # a duplicate would arrive right behind the last text

    holder = leases.holder(session_id)
    assert holder is not None
    assert holder.runner_id != first.runner_id
    for number in RECIPIENTS:
        got = inbox_bodies(stack, number)
        if got != [text(number, n) for n in range(PER_CHAT)]:
            pytest.fail(explain(stack, session_id, number, got, senders.accepted[number]))
    assert len(wait_all_sent(stack, session_id, 20)) == len(RECIPIENTS) * PER_CHAT
    after_kill, in_all = time.monotonic() - killed_at, time.monotonic() - started
    print(
        f"{total} texts: {first.runner_id} killed after {at_kill} arrived and {accepted_at_kill} were "
        f"accepted ({killed_at - sending:.1f} s into sending); the rest arrived within {after_kill:.1f} s "
        f"of the kill; {in_all:.1f} s in all"
    )
