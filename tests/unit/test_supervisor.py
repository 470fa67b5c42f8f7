"""The supervisor of `openwa up` leaves nothing behind, whatever its children do (real processes)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from functions.cli import proctable
from functions.cli.processes import ChildExited, ChildSpec, Escalation, Supervisor

FAST = Escalation(grace=1.0, again=1.0, kill=2.0)

# A worker that forks a "work-horse" the way RQ does: own process group, deaf to SIGTERM (a job in flight).
WORKER_WITH_STUBBORN_HORSE = """
import os, signal, sys, time
pid = os.fork()
if pid == 0:
    os.setpgrp()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    open(sys.argv[1], "w").write(str(os.getpid()))
    while True:
        time.sleep(1)
while True:
    time.sleep(1)
"""

# The worker dies (as if SIGKILLed) while its horse runs on: the horse is re-parented.
ORPHANS_ITS_HORSE = """
import os, signal, sys, time
pid = os.fork()
if pid == 0:
    os.setpgrp()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    open(sys.argv[1], "w").write(str(os.getpid()))
    while True:
        time.sleep(1)
time.sleep(0.5)
os._exit(1)
"""

# RQ's worker-pool once ignored the first SIGTERM (reference/stack.md §1a).
IGNORES_FIRST_SIGTERM = """
import signal, sys, time
def second(signum, frame):
    open(sys.argv[1], "a").write("second\\n")
    sys.exit(0)
def first(signum, frame):
    open(sys.argv[1], "a").write("first\\n")
    signal.signal(signal.SIGTERM, second)
signal.signal(signal.SIGTERM, first)
open(sys.argv[1], "a").write("up\\n")
while True:
    time.sleep(0.1)
"""

RECORDS_ITS_STOP = """
import signal, sys, time
def stop(signum, frame):
    with open(sys.argv[1], "a") as log:
        log.write(sys.argv[2] + "\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(sys.argv[3], "w").write("ready")  # only now does SIGTERM reach `stop`
while True:
    time.sleep(0.1)
"""


def _python(script: str, *args: str) -> list[str]:
    return [sys.executable, "-c", script, *args]


def _wait_for(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError(f"{path} was never written")


def _below_us() -> set[proctable.ProcessId]:
    return proctable.descendants([os.getpid()])


def test_a_horse_in_its_own_group_that_ignores_sigterm_is_still_killed(tmp_path: Path) -> None:
    before = _below_us()
    with Supervisor(say=print, escalation=FAST) as supervisor:
        supervisor.start(ChildSpec("worker", _python(WORKER_WITH_STUBBORN_HORSE, str(tmp_path / "horse"))))
        horse = int(_wait_for(tmp_path / "horse"))
        assert horse in supervisor.tracked_pids()

    assert proctable.read_process(horse) is None
    assert _below_us() <= before


def test_a_child_deaf_to_the_first_sigterm_stops_on_the_second(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with Supervisor(say=print, escalation=Escalation(grace=0.5, again=5.0, kill=2.0)) as supervisor:
        child = supervisor.start(ChildSpec("pool", _python(IGNORES_FIRST_SIGTERM, str(log))))
        _wait_for(log)

    assert log.read_text().split() == ["up", "first", "second"]
    assert child.process.returncode == 0  # it exited by itself: no SIGKILL was needed


def test_a_child_that_exits_is_reported_by_name(tmp_path: Path) -> None:
    with Supervisor(say=print, escalation=FAST) as supervisor:
        supervisor.start(ChildSpec("webhook-worker", _python("import sys; sys.exit(3)")))
        with pytest.raises(ChildExited, match="webhook-worker exited with code 3") as raised:
            supervisor.sleep(10)

    assert raised.value.name == "webhook-worker"


def test_an_orphaned_horse_is_killed_after_its_worker_died(tmp_path: Path) -> None:
    before = _below_us()
    with Supervisor(say=print, escalation=FAST) as supervisor:
        supervisor.start(ChildSpec("worker", _python(ORPHANS_ITS_HORSE, str(tmp_path / "horse"))))
        horse = int(_wait_for(tmp_path / "horse"))
        with pytest.raises(ChildExited):
            supervisor.sleep(10)
        assert proctable.read_process(horse) is not None  # the worker is gone, its horse is not

    assert proctable.read_process(horse) is None
    assert _below_us() <= before


def test_services_stop_before_the_infrastructure_they_use(tmp_path: Path) -> None:
    log = tmp_path / "order"
    with Supervisor(say=print, escalation=FAST) as supervisor:
        for name, wave in (("redis", 0), ("api", 1)):
            ready = str(tmp_path / f"{name}.ready")
            supervisor.start(
                ChildSpec(name, _python(RECORDS_ITS_STOP, str(log), name, ready), stop_wave=wave)
            )
        for name in ("redis", "api"):  # a started interpreter, not a guess at how long one takes
            _wait_for(tmp_path / f"{name}.ready")

    assert log.read_text().split() == ["api", "redis"]
