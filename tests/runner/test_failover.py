"""Failover and failure stories: runners die, WhatsApp Web is unreachable."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from functions.core.clock import iso, utcnow
from functions.queueing import SessionJob, enqueue_session_job
from functions.state.keys import Keys
from runner.leases import LeaseStore
from tests.runner.conftest import LEASE_TTL_SECONDS, Stack, wait_for
from tests.runner.test_session_lifecycle import PHONE, raw_qr, status_of, wait_status

pytestmark = pytest.mark.e2e

BOB = "15550002222"


def session_processes(session_id: str, runner_id: str) -> list[int]:
    """Pids of live session processes for `session_id` started by `runner_id` (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        wanted = [b"runner.session_process", session_id.encode(), runner_id.encode()]
        if state != "Z" and all(part in argv for part in wanted):
            pids.append(int(entry.name))
    return pids


def test_sigkilled_runner_session_is_ready_on_another_runner_without_qr(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    stack.control("POST", "/phones", json={"number": BOB, "name": "Bob"})
    runners = {"runner-a": stack.start_runner("runner-a"), "runner-b": stack.start_runner("runner-b")}
    session_id = client.sessions.create({"name": "failover"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{PHONE}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    manifest = stack.workdir / "data/storage/objects/auth" / session_id / "manifest.json"
    wait_for(manifest.exists, 10, "the auth snapshot after linking")

    conn = stack.redis()
    leases = LeaseStore(conn, Keys(stack.settings.redis_prefix), LEASE_TTL_SECONDS)
    first = leases.holder(session_id)
    assert first is not None
    assert session_processes(session_id, first.runner_id), "the holder's session process is running"
    killed_at_iso = iso(utcnow())
    runners[first.runner_id].kill()
    killed_at = time.monotonic()
    # The orphaned session process dies with its supervisor (PDEATHSIG); a job arriving in the
    # milliseconds before it has exited can still be taken by it (a known race, noted on issue 4), so the
    # outage send goes out once it is gone — still long before another runner takes the session over.
    wait_for(lambda: not session_processes(session_id, first.runner_id), 10, "the orphan to exit")
    # Sent during the outage: waits on the session's queue for whoever holds the session next.
    job = enqueue_session_job(
        conn, session_id, SessionJob.SEND, f"{BOB}@c.us", "sent in the outage", "3EB0AA"
    )

    def taken_over() -> bool:
        """Held by another runner and `ready` as reported by it (connected after the kill)."""
        holder = leases.holder(session_id)
        session = status_of(client, session_id)
        reconnected = session["connectedAt"] is not None and session["connectedAt"] > killed_at_iso
        moved = holder is not None and holder.runner_id != first.runner_id
        return moved and session["status"] == "ready" and reconnected

    seen = set()
    deadline = killed_at + 40
    while not taken_over():
        seen.add(status_of(client, session_id)["status"])
        assert time.monotonic() < deadline, f"no takeover (statuses seen: {seen})"
        time.sleep(0.1)
    print(f"failover after SIGKILL: {time.monotonic() - killed_at:.2f} s")
    assert "qr_ready" not in seen
    second = leases.holder(session_id)
    assert second is not None
    assert second.generation > first.generation

    wait_for(lambda: job.return_value(refresh=True), 20, "the outage send to run")
    inbox = stack.control("GET", f"/phones/{BOB}/messages")
    assert [m["body"] for m in inbox] == ["sent in the outage"]
    # Re-delivering the same send (a retried job) does not send twice.
    again = enqueue_session_job(
        conn, session_id, SessionJob.SEND, f"{BOB}@c.us", "sent in the outage", "3EB0AA"
    )
    wait_for(lambda: again.return_value(refresh=True), 20, "the repeated send to run")
    assert len(stack.control("GET", f"/phones/{BOB}/messages")) == 1


def test_unreachable_whatsapp_web_fails_the_session_with_last_error(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    # The real `webjs` engine (wa-js injection path), with WhatsApp Web somewhere nothing answers.
    unreachable = {
        "ENGINE_TYPE": "webjs",
        "WHATSAPP_WEB_URL": "http://127.0.0.1:9/",
        "SESSION_INIT_TIMEOUT": "5",
    }
    stack.start_runner("runner-down", **unreachable)
    session_id = client.sessions.create({"name": "unreachable"})["id"]
    client.sessions.start(session_id)
    failed = wait_status(client, session_id, "failed", timeout=30)
    assert "could not be loaded" in failed["lastError"]
    wait_for(lambda: not status_of(client, session_id)["engineLoaded"], 15, "the lease to be released")


def test_a_draining_runner_hands_its_session_over_without_waiting_for_the_lease(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    runners = {"runner-a": stack.start_runner("runner-a"), "runner-b": stack.start_runner("runner-b")}
    session_id = client.sessions.create({"name": "drained"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{PHONE}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    leases = LeaseStore(stack.redis(), Keys(stack.settings.redis_prefix), LEASE_TTL_SECONDS)
    first = leases.holder(session_id)
    assert first is not None

    runners[first.runner_id].terminate()
    assert runners[first.runner_id].wait(30) == 0
    assert leases.holder(session_id) != first  # released at once, not left to expire

    def moved() -> bool:
        holder = leases.holder(session_id)
        return holder is not None and holder.runner_id != first.runner_id

    wait_for(moved, LEASE_TTL_SECONDS - 1, "the other runner to claim the released session")
    wait_status(client, session_id, "ready")
