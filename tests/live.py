"""Helpers for tests that run the gateway as real processes (gunicorn, the sandbox, runners)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from functions.cli.serve import gunicorn_argv

REPO_ROOT = Path(__file__).resolve().parents[1]


def gateway_env(redis_url: str, data_dir: Path, master_key: str, **overrides: str) -> dict[str, str]:
    """The environment of a live gateway process: this one's, minus gunicorn overrides, plus the test's
    Redis, data directory and admin key, rate limits off, and the checkout importable."""
    env = {name: value for name, value in os.environ.items() if name != "GUNICORN_CMD_ARGS"}
    env.update(
        REDIS_URL=redis_url,
        DATA_DIR=str(data_dir),
        API_MASTER_KEY=master_key,
        RATE_LIMIT_ENABLED="false",
        LOG_LEVEL="warning",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
    env.update(overrides)
    return env


def api_argv(port: int, workers: int = 2) -> list[str]:
    """The command `openwa api` runs (our gunicorn settings, so the worker model is production's), on
    127.0.0.1:`port` with `workers` workers: tests run a smaller API than the machine's default."""
    return [*gunicorn_argv(), "-b", f"127.0.0.1:{port}", "-w", str(workers)]


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM (a graceful stop for gunicorn and our processes), then SIGKILL if it is still there."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
