"""Session processes as the supervisor sees them: spawn, signal, poll, with a stop deadline.

Each process runs in its own process group, so a force-kill takes its Playwright driver with it, and
Ctrl-C in a terminal reaches only the supervisor, which then drains in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from functions.config import Settings
from runner.leases import Lease

STOP_GRACE_SECONDS = 30.0
SUPERVISOR_PID_ENV = "OPENWA_SUPERVISOR_PID"  # lets a session process die with its supervisor


@dataclass
class SessionChild:
    """One session process and what the supervisor knows about it."""

    lease: Lease
    process: subprocess.Popen[bytes]
    restart_generation: int
    kill_generation: int
    crashes: int = 0
    respawn_at: float | None = None
    restart_requested: bool = False
    stopping: bool = False
    stop_deadline: float | None = field(default=None)
    started_at: float = field(default_factory=time.monotonic)

    @property
    def session_id(self) -> str:
        return self.lease.session_id

    def poll(self) -> int | None:
        return self.process.poll()

    def terminate(self, *, stopping: bool = True) -> None:
        """Ask the process to stop (it stores a final snapshot); SIGKILL after the grace period."""
        self.stopping = self.stopping or stopping
        if self.stop_deadline is None and self.process.poll() is None:
            self.stop_deadline = time.monotonic() + STOP_GRACE_SECONDS
            # The session process only, not its group: Playwright's driver closes the browser on SIGTERM,
            # and the process needs the browser for its final snapshot.
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the process group at once (force-kill, lost lease) and wait for it."""
        self._signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)

    def kill_leftovers(self) -> None:
        """Once the process has exited: SIGKILL what is left of its group (the browser of a crashed one)."""
        self._signal(signal.SIGKILL)

    def enforce_stop_deadline(self, now: float) -> None:
        if self.stop_deadline is not None and now > self.stop_deadline:
            self.kill()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)  # the process group: its Playwright driver too


def spawn(settings: Settings, lease: Lease, restart_generation: int, kill_generation: int) -> SessionChild:
    """Start `python -m runner.session_process` for the lease's session, inheriting our environment."""
    argv = [sys.executable, "-m", "runner.session_process", lease.session_id, lease.runner_id]
    argv.append(str(lease.generation))
    env = dict(os.environ, **{SUPERVISOR_PID_ENV: str(os.getpid())})
    process = subprocess.Popen(argv, env=env, start_new_session=True)
    return SessionChild(lease, process, restart_generation, kill_generation)
