"""`openwa runner --drain` and `openwa recover` as an operator runs them (real Redis, local storage)."""

from __future__ import annotations

from click.testing import CliRunner
from redis import Redis

from functions.cli.main import cli
from functions.config import Settings
from functions.state.drain import drain_requested
from functions.state.keys import Keys
from functions.storage import build_storage
from functions.storage.manifests import Manifest, write_manifest
from runner.leases import LeaseStore

KEYS = Keys("openwa")


def run(settings: Settings, *args: str) -> tuple[int, str, str]:
    env = {
        "REDIS_URL": settings.redis_url,
        "DATA_DIR": str(settings.data_dir),
        "API_MASTER_KEY": settings.api_master_key or "",
    }
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_draining_a_runner_that_is_not_running_fails_and_asks_nothing(
    settings: Settings, redis_conn: Redis
) -> None:
    code, _, err = run(settings, "runner", "--drain", "runner-gone")
    assert code == 1
    assert "no live runner 'runner-gone'" in err
    assert not drain_requested(redis_conn, KEYS, "runner-gone")


def test_a_drain_request_waits_for_the_runner_and_times_out_while_it_stays(
    settings: Settings, redis_conn: Redis
) -> None:
    LeaseStore(redis_conn, KEYS, 30).heartbeat("runner-a", [])  # a live runner that never drains
    code, out, err = run(settings, "runner", "--drain", "runner-a", "--timeout", "1")
    assert (code, "draining" in out, "still running after 1 s" in err) == (1, True, True)
    assert drain_requested(redis_conn, KEYS, "runner-a")


def test_recover_dry_run_lists_what_it_would_recreate_and_writes_nothing(
    settings: Settings, redis_conn: Redis
) -> None:
    mirror = {"id": "s1", "name": "sales", "desiredState": "running"}
    write_manifest(build_storage(settings), "s1", Manifest("auth/s1/state-1.bin", "x", 1, 1, "f", mirror))
    code, out, _ = run(settings, "recover", "--dry-run")
    assert code == 0
    assert out.splitlines() == [
        "s1 sales (running, linked): recreated",
        "would recreate 1 of 1 sessions found in storage",
    ]
    assert redis_conn.keys("openwa:session*") == []
