"""End-to-end fixtures: the gateway as it runs in production, a live gunicorn on a free port, on real Redis.

One gunicorn (2 workers x 4 threads) serves a whole test module; each test starts from the state of a first
boot (an empty Redis plus the seeded bootstrap admin key) so the stories never see each other's keys.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openwa import OpenWAClient
from redis import Redis

from functions.cli.redis_server import RedisServer, free_port
from functions.config import Settings, load_settings
from functions.services.bootstrap import ensure_admin_key
from tests.live import api_argv, gateway_env, stop_process

BOOT_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass
class Gateway:
    """A running gateway: its URL, the bootstrap admin key, and the Redis it keeps its state in."""

    base_url: str
    master_key: str
    settings: Settings
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def client(self, api_key: str | None = None) -> OpenWAClient:
        """An SDK client; the bootstrap admin key unless another key is given."""
        return OpenWAClient(self.base_url, api_key or self.master_key, timeout=15.0)

    def http(self) -> httpx.Client:
        """A bare HTTP client, for what the SDK hides (status codes, headers, requests with no key)."""
        return httpx.Client(base_url=self.base_url, timeout=15.0)

    def reset(self) -> None:
        """Back to a first boot: empty Redis, then the admin key seeded by the code the gateway boots with."""
        conn = Redis.from_url(self.settings.redis_url)
        try:
            conn.flushall()
            ensure_admin_key(self.settings, conn)
        finally:
            conn.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str) -> str | None:
    """None once GET /api/health/ready answers 200; otherwise why it never did."""
    deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"gunicorn exited with code {process.returncode}"
        try:
            response = httpx.get(f"{base_url}/api/health/ready", timeout=2.0)
        except httpx.TransportError as exc:
            last = type(exc).__name__
        else:
            if response.status_code == 200:
                return None
            last = f"{response.status_code} {response.text[:200]}"
        time.sleep(0.1)
    return f"/api/health/ready not 200 within {BOOT_TIMEOUT_SECONDS:.0f} s (last: {last})"


@contextmanager
def running_gateway(redis_url: str, workdir: Path, **settings: str) -> Iterator[Gateway]:
    """gunicorn serving `functions.wsgi:app` as `openwa api` runs it, configured through the environment
    only (`settings` are extra environment variables), on an emptied Redis; stopped on exit."""
    master_key = "owa_k1_" + secrets.token_hex(32)
    conn = Redis.from_url(redis_url)
    conn.flushall()
    conn.close()
    env = gateway_env(redis_url, workdir / "data", master_key, RUNNER_COMMAND_TIMEOUT_SECONDS="1", **settings)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    stderr_path = workdir / "gunicorn.stderr"
    # The working directory is a scratch one, so no `.env` or gunicorn.conf.py of the checkout applies.
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            api_argv(port), cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
    loaded = load_settings(
        _env_file=None, redis_url=redis_url, data_dir=workdir / "data", api_master_key=master_key
    )
    gateway = Gateway(base_url, master_key, loaded, process, stderr_path)
    try:
        problem = _wait_until_ready(process, base_url)
        if problem is not None:
            stop_process(process, STOP_TIMEOUT_SECONDS)
            pytest.fail(f"the gateway did not start: {problem}\n--- gunicorn stderr ---\n{gateway.stderr()}")
        yield gateway
    finally:
        stop_process(process, STOP_TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def live_gateway(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway for this module, on default settings."""
    with running_gateway(redis_server.url, tmp_path_factory.mktemp("gateway")) as gateway:
        yield gateway


@pytest.fixture
def gateway(live_gateway: Gateway) -> Gateway:
    """The live gateway, in the state of a first boot: no sessions, one admin key (the master key)."""
    live_gateway.reset()
    return live_gateway
