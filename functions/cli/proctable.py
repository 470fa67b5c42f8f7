"""A read of the Linux process table (`/proc`), for finding and killing everything a supervisor started.

Why not process groups: RQ work-horses call `os.setpgrp()`, so killing a worker's group leaves a running
horse behind (`reference/stack.md` §1a). Two things do find them: parent links (`/proc/<pid>/stat`), while the
parent lives, and the session, which `setpgrp` does not change and which survives re-parenting (each child of
the supervisor leads its own session). A pid is identified together with its start time, so a pid the kernel
recycled after its process died is never mistaken for the one we saw (and never signalled).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ProcessId:
    """A process as the kernel saw it: pid plus start time (clock ticks after boot)."""

    pid: int
    start_time: int


@dataclass(frozen=True)
class ProcessInfo:
    """The fields of `/proc/<pid>/stat` we need."""

    ident: ProcessId
    ppid: int
    state: str
    session: int

    @property
    def is_zombie(self) -> bool:
        return self.state in {"Z", "X"}


def read_process(pid: int) -> ProcessInfo | None:
    """The process `pid`, or None when it does not exist (or vanished while being read)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # `comm` (field 2) is in parentheses and may itself contain spaces or ')': split after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    # fields[0] is field 3 (state), [1] field 4 (ppid), [3] field 6 (session), [19] field 22 (starttime).
    return ProcessInfo(ProcessId(pid, int(fields[19])), int(fields[1]), fields[0], int(fields[3]))


def process_table() -> dict[int, ProcessInfo]:
    """Every process visible in `/proc`, keyed by pid (empty without a /proc: no descendant tracking)."""
    table: dict[int, ProcessInfo] = {}
    if not PROC.is_dir():
        return table
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            info = read_process(int(entry.name))
            if info is not None:
                table[info.ident.pid] = info
    return table


def descendants(roots: Iterable[int], table: dict[int, ProcessInfo] | None = None) -> set[ProcessId]:
    """All living (non-zombie) processes below `roots` in the parent tree, roots excluded."""
    table = process_table() if table is None else table
    children: dict[int, list[ProcessInfo]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info)
    found: set[ProcessId] = set()
    pending = list(roots)
    while pending:
        for child in children.get(pending.pop(), []):
            if child.ident not in found:
                if not child.is_zombie:
                    found.add(child.ident)
                pending.append(child.ident.pid)
    return found


def session_members(leader: int, table: dict[int, ProcessInfo] | None = None) -> set[ProcessId]:
    """Living processes in the session `leader` leads, the leader excluded.

    Safe after the leader has exited: the kernel does not reuse a pid while a session still carries it.
    """
    table = process_table() if table is None else table
    return {
        info.ident
        for info in table.values()
        if info.session == leader and info.ident.pid != leader and not info.is_zombie
    }


def alive_in(ident: ProcessId, table: dict[int, ProcessInfo]) -> bool:
    """True if `table` (a snapshot) shows the very process `ident`, not exited."""
    info = table.get(ident.pid)
    return info is not None and info.ident == ident and not info.is_zombie


def is_alive(ident: ProcessId) -> bool:
    """True while the very process `ident` exists and has not exited (a zombie counts as exited)."""
    info = read_process(ident.pid)
    return info is not None and info.ident == ident and not info.is_zombie


def send_signal(ident: ProcessId, signum: int) -> bool:
    """Signal `ident` if it is still that process; returns whether a signal was sent."""
    if not is_alive(ident):
        return False
    try:
        os.kill(ident.pid, signum)
    except ProcessLookupError:
        return False
    return True


def cmdline(pid: int) -> str:
    """The command line of `pid`, arguments joined by spaces ('' if it is gone)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def reap_adopted(candidates: Iterable[ProcessId]) -> None:
    """Collect the exit status of those `candidates` that were re-parented to us and have exited.

    As a subreaper we inherit orphaned descendants; unreaped they would stay zombies until we exit. Only
    processes we tracked are reaped, so exit statuses that `subprocess.Popen` objects wait for are left alone.
    """
    mine = os.getpid()
    for ident in candidates:
        info = read_process(ident.pid)
        if info is not None and info.ident == ident and info.ppid == mine and info.is_zombie:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(ident.pid, os.WNOHANG)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    # Loaded once in the parent: a forked child about to exec should only call, not dlopen.
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, value: int) -> bool:
    libc = _libc()
    prctl = getattr(libc, "prctl", None)
    return prctl is not None and int(prctl(option, value, 0, 0, 0)) == 0


def become_subreaper(enabled: bool = True) -> bool:
    """Make orphaned descendants re-parent to this process instead of init (Linux; False elsewhere).

    That keeps a work-horse whose worker was SIGKILLed inside our tree, where shutdown finds it.
    """
    return _prctl(_PR_SET_CHILD_SUBREAPER, int(enabled))


def die_with_parent_hook() -> Callable[[], None]:
    """A `preexec_fn` asking the kernel to SIGTERM the child when this (parent) process dies.

    Covers the one case a supervisor cannot handle itself: being SIGKILLed. Libc is resolved here, in the
    parent, so the forked child only makes the call. If the parent died between fork and the call, the
    signal would never come, so the child terminates at once instead.
    """
    parent = os.getpid()
    _libc()

    def hook() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return hook
