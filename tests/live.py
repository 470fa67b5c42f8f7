"""Helpers for tests that run the gateway as real processes (gunicorn, the sandbox, runners)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

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


class MotoServer:
    """moto's S3 server as a process of its own, so a test can stop it (refusing), freeze it (SIGSTOP:
    connections accepted, never answered) and start it again on the same port (empty again, as moto keeps
    everything in memory)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("moto did not start") from None
                time.sleep(0.1)

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()

    def settings(self) -> dict[str, str]:
        """The environment that points the gateway's storage here."""
        return {
            "STORAGE_TYPE": "s3",
            "S3_ENDPOINT": self.endpoint,
            "S3_ACCESS_KEY_ID": "testing",
            "S3_SECRET_ACCESS_KEY": "testing",
        }
