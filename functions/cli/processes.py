"""Child processes of `openwa up`: how they start, how they are watched, and how they are stopped.

Contract of `Supervisor`: every process it starts or adopts — and every process below those in the parent
tree, including RQ work-horses that left their worker's process group — is gone when `stop_all()` returns.
Children stop in waves (highest `stop_wave` first, so the API and workers stop before the Redis they use);
within a wave each child gets SIGTERM, then SIGTERM again, then SIGKILL, each with a deadline.

Each child leads its own session. So a Ctrl-C in the terminal reaches only the supervisor, which then stops
the children in order rather than all at once; and every process a child starts, even one that left its
process group and was re-parented, is still found by its session. Each child also asks the kernel for
SIGTERM should the supervisor itself die.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from functions.cli import proctable
from functions.cli.proctable import ProcessId

Say = Callable[[str], None]


@dataclass(frozen=True)
class ChildSpec:
    """One long-running child: a name for messages, its argv, and its environment (None: inherit)."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    stop_wave: int = 1
    log_file: Path | None = None  # stdout and stderr go here instead of the terminal


@dataclass(frozen=True)
class Escalation:
    """Seconds after each stop signal; `grace` covers gunicorn's graceful timeout and a job in flight."""

    grace: float = 12.0
    again: float = 3.0
    kill: float = 3.0


class StopRequested(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived: the supervisor should stop everything and exit 0."""


class ChildExited(Exception):
    """A child exited while it was expected to run."""

    def __init__(self, name: str, returncode: int) -> None:
        self.name = name
        self.returncode = returncode
        how = f"was killed by signal {-returncode}" if returncode < 0 else f"exited with code {returncode}"
        super().__init__(f"{name} {how}")


@dataclass
class Child:
    """A started child, the descendants seen below it while it ran, and files to close when it is gone."""

    name: str
    process: subprocess.Popen[bytes]
    stop_wave: int = 1
    descendants: set[ProcessId] = field(default_factory=set)
    files: list[IO[bytes]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
    umask: int = -1,
) -> Child:
    """Start `argv` in its own session, dying with us; output to `log_file` (appended) or the terminal.
    `umask` (unless -1, inherit ours) is the child's file creation mask."""
    sink: IO[bytes] | None = log_file.open("ab") if log_file else None
    try:
        process = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT if sink else None,
            start_new_session=True,
            umask=umask,
            # preexec_fn is unsafe only with threads in the parent; the supervisor starts none.
            preexec_fn=proctable.die_with_parent_hook(),
        )
    except BaseException:
        if sink:
            sink.close()
        raise
    return Child(Path(argv[0]).name, process, files=[sink] if sink else [])


class Supervisor:
    """Starts children, notices signals and unexpected exits, and stops everything it started.

    Use as a context manager: entering installs SIGINT/SIGTERM/SIGHUP handlers (which only count) and
    makes this process a subreaper; leaving the block, normally or by exception, runs `stop_all()`.
    """

    def __init__(self, say: Say, escalation: Escalation | None = None) -> None:
        self._say = say
        self._escalation = escalation or Escalation()
        self._children: list[Child] = []
        self._signals = 0
        self._previous: dict[int, Any] = {}
        self._next_scan = 0.0

    def __enter__(self) -> Supervisor:
        proctable.become_subreaper()
        # SIGHUP too: closing the terminal should stop everything in order, not orphan it to PDEATHSIG.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop_all()
        finally:
            proctable.become_subreaper(False)
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only count: the loops act on it. A second signal during shutdown skips to the next stage.
        self._signals += 1

    # -- starting and watching --

    def start(self, spec: ChildSpec) -> Child:
        """Start `spec` and track it."""
        return self.adopt(spec.name, spawn(spec.argv, env=spec.env, log_file=spec.log_file), spec.stop_wave)

    def adopt(self, name: str, child: Child, stop_wave: int) -> Child:
        """Track a child started elsewhere (e.g. Redis) under `name`, stopped in `stop_wave`."""
        child.name, child.stop_wave = name, stop_wave
        self._children.append(child)
        return child

    def check(self) -> None:
        """Raise StopRequested after a signal, ChildExited if a child has exited; else note descendants."""
        if self._signals:
            raise StopRequested
        for child in self._children:
            code = child.process.poll()
            if code is not None:
                raise ChildExited(child.name, code)
        # A /proc scan costs ~0.05 ms per process on the machine: once a second is plenty to catch a horse.
        if time.monotonic() >= self._next_scan:
            self._next_scan = time.monotonic() + 1.0
            self._remember_descendants()

    def sleep(self, seconds: float) -> None:
        """Sleep while watching: `check()` at least every 0.1 s."""
        deadline = time.monotonic() + seconds
        while True:
            self.check()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.1, left))

    def run_until_stopped(self, poll: float = 0.25) -> None:
        """Block until a signal (StopRequested) or a child's exit (ChildExited)."""
        while True:
            self.sleep(poll)

    def tracked_pids(self) -> set[int]:
        """Pids of running children and of every living descendant seen so far."""
        self._remember_descendants()
        alive = {ident.pid for ident in self._descendants(self._children) if proctable.is_alive(ident)}
        return alive | {c.process.pid for c in self._children if c.running}

    def _remember_descendants(self) -> None:
        # Parent links only hold while the parent runs, so descendants are recorded as they are seen; the
        # session finds the rest (a horse whose worker died) for as long as any of them lives. The dead are
        # forgotten, so a long run's stream of short-lived work-horses does not pile up here.
        table = proctable.process_table()
        # Reap after the snapshot: whatever it shows exited is then reaped before being forgotten below.
        proctable.reap_adopted(self._descendants(self._children))
        for child in self._children:
            found = proctable.session_members(child.process.pid, table)
            if child.process.returncode is None:
                found |= proctable.descendants([child.process.pid], table)
            child.descendants = {i for i in child.descendants if proctable.alive_in(i, table)} | found

    @staticmethod
    def _descendants(children: list[Child]) -> set[ProcessId]:
        return set().union(*(c.descendants for c in children))

    # -- stopping --

    def stop_all(self) -> None:
        """Stop every child, wave by wave, then SIGKILL any straggler below us. Idempotent."""
        for wave in sorted({c.stop_wave for c in self._children}, reverse=True):
            self._stop_wave([c for c in self._children if c.stop_wave == wave])
        self._kill_stragglers()
        for child in self._children:
            for stream in child.files:
                stream.close()
            child.files.clear()

    def _stop_wave(self, members: list[Child]) -> None:
        self._remember_descendants()
        stages = (
            (signal.SIGTERM, self._escalation.grace, False),
            (signal.SIGTERM, self._escalation.again, True),
            (signal.SIGKILL, self._escalation.kill, True),
        )
        for signum, seconds, hit_descendants in stages:
            if not self._wave_alive(members):
                return
            self._signal_wave(members, signum, hit_descendants)
            self._wait_wave(members, seconds)
        for child in members:
            if child.running:
                self._say(f"{child.name} (pid {child.process.pid}) survived SIGKILL")

    def _wave_alive(self, members: list[Child]) -> bool:
        if any(c.running for c in members):
            return True
        return any(proctable.is_alive(ident) for ident in self._descendants(members))

    def _signal_wave(self, members: list[Child], signum: int, hit_descendants: bool) -> None:
        # The first SIGTERM goes to the children only, so an RQ worker lets its horse finish the job
        # (warm shutdown) and gunicorn drains requests; later signals also reach every descendant.
        for child in members:
            if child.running:
                if signum == signal.SIGKILL:
                    self._say(f"{child.name} (pid {child.process.pid}) did not stop; killing it")
                child.process.send_signal(signum)
        if hit_descendants:
            for ident in self._descendants(members):
                proctable.send_signal(ident, signum)

    def _wait_wave(self, members: list[Child], seconds: float) -> None:
        deadline, signals = time.monotonic() + seconds, self._signals
        while self._wave_alive(members) and time.monotonic() < deadline and self._signals == signals:
            time.sleep(0.05)
            self._remember_descendants()

    def _kill_stragglers(self) -> None:
        # Whatever still lives below any child (say, a horse whose worker was SIGKILLed) gets SIGKILL.
        self._remember_descendants()
        leftovers = {ident for ident in self._descendants(self._children) if proctable.is_alive(ident)}
        for ident in leftovers:
            proctable.send_signal(ident, signal.SIGKILL)
        deadline = time.monotonic() + self._escalation.kill
        while any(proctable.is_alive(i) for i in leftovers) and time.monotonic() < deadline:
            time.sleep(0.05)
        proctable.reap_adopted(leftovers)
