"""How a runner supervises its sessions: no more than MAX_SESSIONS each, and crashed session processes
restarted with a growing delay (real runners, Chromium and the sandbox; sessions need not be linked)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from functions.state.keys import Keys
from runner.leases import LeaseStore
from runner.priority import autogroup, process_tree
from runner.supervisor import NO_CAPACITY
from tests.runner.conftest import LEASE_TTL_SECONDS, Stack, wait_for
from tests.runner.test_failover import session_processes
from tests.runner.test_session_lifecycle import status_of, wait_status

pytestmark = pytest.mark.e2e


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def niceness_of(proc: Path) -> int:
    """The nice value in `<proc>/stat` (a /proc/<pid> or /proc/<pid>/task/<tid> directory; field 19)."""
    return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[16])


def niceness(pid: int) -> int:
    return niceness_of(Path(f"/proc/{pid}"))


def test_a_runner_holds_at_most_max_sessions_and_the_extra_one_waits_for_another_runner(
    fresh_stack: Stack,
) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    leases = LeaseStore(stack.redis(), Keys(stack.settings.redis_prefix), LEASE_TTL_SECONDS)
    stack.start_runner("runner-a", MAX_SESSIONS="1")
    ids = [client.sessions.create({"name": name})["id"] for name in ("first", "second")]
    for session_id in ids:
        client.sessions.start(session_id)

    [held] = wait_for(lambda: [s for s in ids if leases.holder(s)], 15, "runner-a to claim one session")
    [waiting] = [s for s in ids if s != held]
    wait_status(client, held, "qr_ready")
    time.sleep(LEASE_TTL_SECONDS * 2 / 3)  # two more ticks of runner-a: still only one
    assert leases.holder(waiting) is None
    assert status_of(client, waiting)["engineLoaded"] is False
    # It says why it waits, once (issue 22 item 5: it used to sit in `initializing` with no word).
    assert status_of(client, waiting)["lastError"] == NO_CAPACITY
    told = [d for name, d in stack.events(waiting) if name == "session.status" and d.get("reason")]
    assert [d["reason"] for d in told] == [NO_CAPACITY]

    stack.start_runner("runner-b", MAX_SESSIONS="1", RUNNER_NICE="5")
    wait_status(client, waiting, "qr_ready")
    assert status_of(client, waiting)["lastError"] is None
    holders = {session_id: lease.runner_id for session_id in ids if (lease := leases.holder(session_id))}
    assert holders == {held: "runner-a", waiting: "runner-b"}
    # RUNNER_NICE reaches the session process and its browser (started detached, in a session and
    # autogroup of its own): the process's threads, and each autogroup but the runner's (Chromium re-raises
    # some of its own threads within its group, so only the group's weight is checked there). The default
    # changes nothing.
    ours = niceness(os.getpid())
    [niced] = session_processes(waiting, "runner-b")
    [plain] = session_processes(held, "runner-a")
    assert niceness(plain) == ours
    tree = process_tree(niced)
    assert any(b"chromium" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in tree)

    def all_niced() -> bool:
        try:
            threads = list(Path(f"/proc/{niced}/task").glob("*"))
            niced_threads = all(niceness_of(task) >= 5 for task in threads)
            groups = {Path(f"/proc/{pid}/autogroup").read_text() for pid in tree if autogroup(pid)}
        except OSError:  # a thread or process went away meanwhile
            return False
        return niced_threads and all(group.split()[-1] == "5" for group in groups)

    wait_for(all_niced, 10, "the session's processes and browser to run at nice 5")


def test_a_crashed_session_process_is_restarted_with_a_growing_delay(fresh_stack: Stack) -> None:
    stack, client = fresh_stack, fresh_stack.client()
    stack.start_runner("runner-a")
    session_id = client.sessions.create({"name": "crashy"})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")

    delays, crashed_groups = [], []
    [process] = session_processes(session_id, "runner-a")
    for _ in range(3):  # each restarted process crashes again at once
        os.kill(process, signal.SIGKILL)
        crashed, crashed_groups = time.monotonic(), [*crashed_groups, process]
        [process] = wait_for(
            lambda old=process: [pid for pid in session_processes(session_id, "runner-a") if pid != old],
            15,
            "the session process to be restarted",
        )
        delays.append(time.monotonic() - crashed)
    print("restart delays: " + ", ".join(f"{delay:.2f} s" for delay in delays))
    for delay, backoff in zip(delays, (1, 2, 4), strict=True):  # 1 s, doubling up to 60 s
        assert backoff - 0.1 <= delay < backoff + 1.5

    # A crashed process's browser does not outlive it (the supervisor kills what is left of its group).
    wait_for(lambda: all(group_gone(pgid) for pgid in crashed_groups), 5, "the crashed browsers to go")
    wait_status(client, session_id, "qr_ready")  # the last restart stays up
