"""CPU priority of a session process and everything under it (`RUNNER_NICE`).

`nice` alone does not reach far enough on Linux: it is per thread, Chromium sets some of its own (its
browser process runs at -8 as root), and with autogroup scheduling (`kernel.sched_autogroup_enabled`, the
default on desktop and many server kernels) the CPU is first shared between *sessions* (setsid), each
weighted by its autogroup's nice, and only then between processes inside one. A session process runs in its
own session, and Playwright starts Chromium detached, in another. So lowering the priority means: every
thread of the tree gets at least the nice value, and so does each autogroup the tree runs in, except the
one the supervisor is in (shared with whatever started it). All best effort: a kernel without autogroup, or
a process that exits meanwhile, is skipped.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_PROC = Path("/proc")


def _parent_map() -> dict[int, int]:
    """pid → parent pid for every process visible in /proc."""
    parents: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
    return parents


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, parents before children."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parent_map().items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def autogroup(pid: int) -> str | None:
    """The name of the autogroup `pid` runs in (`/autogroup-123`), or None without autogroup scheduling."""
    try:
        return (_PROC / str(pid) / "autogroup").read_text().split()[0]
    except (OSError, IndexError):
        return None


def lower_priority(root: int, nice: int, *, spare: int) -> int:
    """Give every thread of `root`'s tree a nice value of at least `nice`, and each autogroup it runs in
    (but the one process `spare` runs in) exactly `nice`. Returns how many threads were changed."""
    spared, groups, changed = autogroup(spare), set(), 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            for task in (_PROC / str(pid) / "task").iterdir():
                tid = int(task.name)
                if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                    os.setpriority(os.PRIO_PROCESS, tid, nice)
                    changed += 1
        group = autogroup(pid)
        if group is not None and group != spared and group not in groups:
            groups.add(group)
            with contextlib.suppress(OSError):
                (_PROC / str(pid) / "autogroup").write_text(str(nice))
    return changed
