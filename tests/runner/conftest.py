"""Runner fixtures: the whole gateway as deployed, on this machine.

A live gunicorn (the API), a real `openwa sandbox` (WhatsApp), real Chromium, real Redis and local storage;
runners are started per test (`stack.start_runner()`) as `python -m runner` processes with the sandbox
engine, so each story decides how many runners it has and may SIGKILL them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from openwa import OpenWAClient
from redis import Redis

from functions.cli.redis_server import RedisServer, free_port
from functions.config import Settings, load_settings
from functions.services.bootstrap import ensure_admin_key
from functions.state.keys import Keys
from tests.live import api_argv, gateway_env, stop_process

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
LEASE_TTL_SECONDS = 5
MEDIA_MAX_BYTES = 2 * 1024 * 1024


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} not up within {timeout:.0f} s")


@dataclass
class Stack:
    """The API, the sandbox and the runners of one test module."""

    api_url: str
    sandbox_url: str
    master_key: str
    settings: Settings
    env: dict[str, str]
    workdir: Path
    runners: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def client(self) -> OpenWAClient:
        return OpenWAClient(self.api_url, self.master_key, timeout=30.0)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the sandbox control API (`/_sandbox/...`); raises on an error status."""
        response = httpx.request(method, f"{self.sandbox_url}/_sandbox{path}", timeout=10.0, **kwargs)
        response.raise_for_status()
        return response.json()

    def redis(self) -> Redis:
        return Redis.from_url(self.settings.redis_url)

    def events(self, session_id: str) -> list[tuple[str, dict[str, Any]]]:
        """The session's published events (its Redis stream), oldest first, as (name, data)."""
        conn = self.redis()
        try:
            rows = conn.xrange(Keys(self.settings.redis_prefix).session_events(session_id))
        finally:
            conn.close()
        return [(fields[b"event"].decode(), json.loads(fields[b"data"])) for _, fields in rows]

    def start_runner(self, runner_id: str, **env: str) -> subprocess.Popen[bytes]:
        """A `python -m runner` with the sandbox engine (extra environment overrides allowed)."""
        log = (self.workdir / f"{runner_id}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "runner"],
            cwd=self.workdir,
            env={**self.env, "RUNNER_ID": runner_id, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.runners.append(process)
        return process

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        """An `openwa worker` (webhook deliveries, auto-replies); `stop_runners` stops it too."""
        log = (self.workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-c", "from functions.cli.main import cli; cli()", "worker"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.runners.append(process)
        return process

    def stop_runners(self) -> None:
        for process in self.runners:
            stop_process(process)
        self.runners.clear()

    def reset(self) -> None:
        conn = self.redis()
        try:
            conn.flushall()
            ensure_admin_key(self.settings, conn)
        finally:
            conn.close()
        self.control("POST", "/reset")
        for part in ("objects", "meta"):  # no stored sessions either (`openwa recover` would bring them back)
            shutil.rmtree(self.workdir / "data/storage" / part / "auth", ignore_errors=True)


@pytest.fixture(scope="module")
def stack_settings() -> dict[str, str]:
    """Extra environment for the module's stack; a module overrides this fixture to change settings."""
    return {}


@pytest.fixture(scope="module")
def stack(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory, stack_settings: dict[str, str]
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("runner-stack")
    sandbox_port, api_port = free_port(), free_port()
    sandbox_cmd = [sys.executable, "-m", "runner.sandbox", "--port", str(sandbox_port)]
    sandbox_cmd += ["--data-dir", str(workdir / "sandbox")]
    master_key = "owa_k1_" + secrets.token_hex(32)
    env = gateway_env(
        redis_server.url,
        workdir / "data",
        master_key,
        LOG_LEVEL="info",
        RUNNER_COMMAND_TIMEOUT_SECONDS="20",
        ENGINE_TYPE="sandbox",
        SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}/",
        CHROMIUM_PATH=CHROMIUM,
        SESSION_LEASE_TTL=str(LEASE_TTL_SECONDS),
        MEDIA_DOWNLOAD_MAX_BYTES=str(MEDIA_MAX_BYTES),
        BASE_URL=f"http://127.0.0.1:{api_port}",  # signed media URLs point at this API
        **{"SSRF_ALLOWED_HOSTS": "127.0.0.1", **stack_settings},  # a module may allow more
    )
    api_cmd = api_argv(api_port)
    sandbox = subprocess.Popen(sandbox_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = subprocess.Popen(
        api_cmd, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    settings = load_settings(
        _env_file=None, redis_url=redis_server.url, data_dir=workdir / "data", api_master_key=master_key
    )
    stack = Stack(
        f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}", master_key, settings, env, workdir
    )
    try:
        _wait_http(f"{stack.sandbox_url}/_sandbox/health", sandbox)
        _wait_http(f"{stack.api_url}/api/health/ready", api)
        yield stack
    finally:
        stack.stop_runners()
        stop_process(api)
        stop_process(sandbox)


@pytest.fixture
def fresh_stack(stack: Stack) -> Iterator[Stack]:
    """The module's stack in first-boot state: empty Redis and storage, fresh sandbox network, no runner."""
    stack.reset()
    yield stack
    stack.stop_runners()


def wait_for(probe: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `probe` until it returns something truthy; fail naming `what` (and the last value)."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
