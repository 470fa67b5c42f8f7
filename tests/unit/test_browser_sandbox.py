"""Chromium runs in its own sandbox whenever it can (issue 22 item 10): the renderers of a runner that is
not root live in user namespaces of their own; `--no-sandbox` only where the sandbox cannot work (root, or a
kernel without unprivileged user namespaces), with the reason in the log."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from runner.engines.webjs.browser import LAUNCH_ARGS, sandbox_decision, user_namespaces_available
from tests.sandbox.conftest import chromium_path


def test_the_sandbox_is_used_unless_root_or_the_kernel_forbids_it() -> None:
    assert sandbox_decision(10001, user_namespaces=True) == (True, "sandboxed")
    as_root, why = sandbox_decision(0, user_namespaces=True)
    assert not as_root
    assert "root" in why
    no_userns, why = sandbox_decision(10001, user_namespaces=False)
    assert not no_userns
    assert "user namespaces" in why


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def test_our_flags_keep_renderers_sandboxed_for_a_user_that_is_not_root() -> None:
    assert user_namespaces_available()  # this machine, like the images' hosts, allows them
    # Not under pytest's tmp_path: that sits in root's private directory, which `nobody` cannot enter.
    home = Path(tempfile.mkdtemp(prefix="openwa-sandbox-"))
    shutil.chown(home, "nobody")
    argv = [chromium_path(), "--headless=new", *LAUNCH_ARGS, f"--user-data-dir={home}/profile"]
    argv += ["--remote-debugging-port=0", "data:text/html,<p>sandboxed?</p>"]
    browser = subprocess.Popen(
        ["runuser", "-u", "nobody", "--", "env", f"HOME={home}", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        renderers: list[int] = []
        while not renderers and time.monotonic() < deadline:
            time.sleep(0.2)
            renderers = [
                pid
                for pid in _tree(browser.pid)
                if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes()
            ]
        assert renderers, "no renderer started"
        main = next(
            p
            for p in _tree(browser.pid)
            if b"--type=" not in Path(f"/proc/{p}/cmdline").read_bytes()
            and b"chromium" in Path(f"/proc/{p}/cmdline").read_bytes()
        )
        assert all(
            os.readlink(f"/proc/{pid}/ns/user") != os.readlink(f"/proc/{main}/ns/user") for pid in renderers
        )
    finally:
        os.killpg(browser.pid, 9)
        browser.wait()
        shutil.rmtree(home, ignore_errors=True)
