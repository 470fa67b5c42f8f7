"""Failover and failure stories: runners die or are drained, WhatsApp Web is unreachable, Redis is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job

from functions.core.clock import iso, utcnow
from functions.queueing import SessionJob, enqueue_session_job, session_queue
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


def process_state(pid: int) -> str:
    """The one-letter state of a live process (`R`, `S`, `T` for stopped...)."""
    return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]


def blocked_on_its_queue(conn: Redis, worker_name: str) -> bool:
    """Whether the session process's worker (its Redis client is named after it) sits in its dequeue."""
    return any(
        client.get("name") == worker_name and "b" in client.get("flags", "") for client in conn.client_list()
    )


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
    [orphan] = session_processes(session_id, first.runner_id)
    wait_for(lambda: blocked_on_its_queue(conn, f"session-{session_id}-{first.generation}"), 10, "idle")

    # The race of issue 4, made deterministic: the session process is frozen in its dequeue while its
    # runner is SIGKILLed (its PDEATHSIG SIGTERM stays pending) and a send is enqueued, which Redis hands
    # straight to the frozen dequeue. Thawed, the orphan is stopping and holds a job: it must give the job
    # back to the queue, not run it or drop it, so the next holder sends it exactly once.
    os.kill(orphan, signal.SIGSTOP)
    wait_for(lambda: process_state(orphan) == "T", 5, "the session process to be frozen")
    killed_at_iso = iso(utcnow())
    runners[first.runner_id].kill()
    runners[first.runner_id].wait()  # dead, not merely signalled
    killed_at = time.monotonic()
    job = enqueue_session_job(
        conn, session_id, SessionJob.SEND, f"{BOB}@c.us", "sent in the outage", "3EB0AA"
    )
    handed = IntermediateQueue(session_queue(conn, session_id).key, conn)
    assert handed.get_job_ids() == [job.id], "the job went to the dying process"
    os.kill(orphan, signal.SIGCONT)
    wait_for(lambda: not session_processes(session_id, first.runner_id), 10, "the orphan to exit")
    assert session_queue(conn, session_id).get_job_ids() == [job.id], "given back to the queue, unrun"
    assert handed.get_job_ids() == []

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
    job.refresh()
    assert job.worker_name == f"session-{session_id}-{second.generation}"  # the new holder ran it
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


def test_a_drained_runner_hands_its_session_over_at_once_and_no_message_sent_meanwhile_is_lost(
    fresh_stack: Stack,
) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    stack.control("POST", "/phones", json={"number": BOB, "name": "Bob"})
    runners = {"runner-a": stack.start_runner("runner-a"), "runner-b": stack.start_runner("runner-b")}
    session_id = client.sessions.create({"name": "drained"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{PHONE}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    conn = stack.redis()
    leases = LeaseStore(conn, Keys(stack.settings.redis_prefix), LEASE_TTL_SECONDS)
    first = leases.holder(session_id)
    assert first is not None
    jobs: list[Job] = []

    def send() -> None:
        n = len(jobs)
        text, message_id = f"message {n}", f"3EB0{n:016X}"
        jobs.append(enqueue_session_job(conn, session_id, SessionJob.SEND, f"{BOB}@c.us", text, message_id))

    send()
    drain = subprocess.Popen(
        [sys.executable, "-m", "functions.cli", "runner", "--drain", first.runner_id, "--timeout", "60"],
        env=stack.env,
    )
    drain_started_iso = iso(utcnow())
    seen = set()

    def moved_and_ready() -> bool:
        holder, session = leases.holder(session_id), status_of(client, session_id)
        seen.add(session["status"])
        reconnected = session["connectedAt"] is not None and session["connectedAt"] > drain_started_iso
        return holder is not None and holder.runner_id != first.runner_id and reconnected

    while not moved_and_ready():  # a message every 0.3 s while the session moves
        assert len(jobs) < 150, f"the session did not move (statuses seen: {seen})"
        send()
        time.sleep(0.3)
    send()
    assert drain.wait(30) == 0
    assert runners[first.runner_id].wait(5) == 0
    assert "qr_ready" not in seen

    for job in jobs:
        wait_for(lambda job=job: job.return_value(refresh=True), 20, f"send {job.args[2]!r} to run")
    inbox = [message["body"] for message in stack.control("GET", f"/phones/{BOB}/messages")]
    assert inbox == [f"message {n}" for n in range(len(jobs))]  # each once, in order
    print(f"{len(jobs)} messages sent during the move")


def test_after_redis_is_lost_recover_brings_the_sessions_back_without_a_qr(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.control("POST", "/phones", json={"number": PHONE, "name": "Alice"})
    stack.start_runner("runner-a")
    linked = client.sessions.create({"name": "linked", "config": {"reconnectBaseDelay": 7000}})["id"]
    idle = client.sessions.create({"name": "never-started"})["id"]
    client.sessions.start(linked)
    wait_status(client, linked, "qr_ready")
    stack.control("POST", f"/phones/{PHONE}/link", json={"qr": raw_qr(stack, linked)})
    wait_status(client, linked, "ready")
    manifest = stack.workdir / "data/storage/objects/auth" / linked / "manifest.json"
    wait_for(lambda: manifest.exists() and b'state_key":"auth' in manifest.read_bytes(), 10, "a snapshot")

    conn = stack.redis()
    conn.flushall()  # Redis is lost: sessions, leases, API keys; the runner keeps running
    recovered = subprocess.run(
        [sys.executable, "-m", "functions.cli", "recover"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert recovered.returncode == 0, recovered.stderr
    assert "recreated 2 of 2 sessions" in recovered.stdout

    seen, deadline = set(), time.monotonic() + 40
    while (session := status_of(client, linked))["status"] != "ready":  # the admin key was seeded again
        seen.add(session["status"])
        assert time.monotonic() < deadline, f"not ready again (statuses seen: {seen})"
        time.sleep(0.1)
    assert "qr_ready" not in seen
    assert (session["name"], session["phone"]) == ("linked", PHONE)
    assert client.sessions.get_config(linked)["reconnectBaseDelay"] == 7000
    again = status_of(client, idle)
    assert (again["name"], again["status"], again["engineLoaded"]) == ("never-started", "created", False)
