"""Operator commands that act on a running deployment through Redis and storage: `openwa runner --drain` and
`openwa recover`. Each returns the process exit code and reports through `say` (stdout) / `warn` (stderr)."""

from __future__ import annotations

import time
from collections.abc import Callable

from functions.config import Settings
from functions.core.errors import DomainError
from functions.services.bootstrap import ensure_admin_key
from functions.services.recovery import Outcome, recover_sessions
from functions.state.connection import redis_from_settings
from functions.state.drain import request_drain, runner_alive
from functions.state.keys import Keys
from functions.storage import build_storage

Say = Callable[[str], None]
POLL_SECONDS = 0.25


def drain_runner(settings: Settings, runner_id: str, timeout: float, say: Say, warn: Say) -> int:
    """Ask runner `runner_id` to drain and wait until it has exited: 0 drained, 1 no such runner or late."""
    conn, keys = redis_from_settings(settings), Keys(settings.redis_prefix)
    try:
        if not request_drain(conn, keys, runner_id):
            warn(f"openwa runner --drain: no live runner {runner_id!r}")
            return 1
        say(f"runner {runner_id}: draining (its sessions move to the other runners)")
        deadline = time.monotonic() + timeout
        while runner_alive(conn, keys, runner_id):
            if time.monotonic() > deadline:
                warn(f"openwa runner --drain: runner {runner_id} still running after {timeout:.0f} s")
                return 1
            time.sleep(POLL_SECONDS)
        say(f"runner {runner_id}: drained")
        return 0
    except DomainError as exc:
        warn(f"openwa runner --drain: {exc.message}")
        return 1
    finally:
        conn.close()


def recover(settings: Settings, dry_run: bool, say: Say, warn: Say) -> int:
    """Rebuild the session registry from storage (and re-seed the admin key): 0 done, 1 Redis or storage
    unavailable."""
    conn, keys = redis_from_settings(settings), Keys(settings.redis_prefix)
    try:
        if not dry_run and ensure_admin_key(settings, conn).created:
            say(f"admin key seeded again (API_MASTER_KEY, else written to {settings.api_key_file})")
        results = recover_sessions(conn, keys, build_storage(settings), dry_run=dry_run)
    except DomainError as exc:
        warn(f"openwa recover: {exc.message}")
        return 1
    finally:
        conn.close()
    for result in results:
        state = ("running" if result.running else "stopped") + (", linked" if result.linked else "")
        say(f"{result.session_id} {result.name or '-'} ({state}): {result.outcome.value}")
    recreated = sum(result.outcome is Outcome.RECREATED for result in results)
    verb = "would recreate" if dry_run else "recreated"
    say(f"{verb} {recreated} of {len(results)} sessions found in storage")
    return 0
