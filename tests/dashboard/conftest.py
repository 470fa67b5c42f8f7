"""Dashboard fixtures: one live `openwa up --sandbox` per module (API, webhook worker, runner, sandbox), a
local webhook receiver it may deliver to, and real Chromium driven by Playwright.

The gateway ends its event streams every few seconds (SSE_MAX_SECONDS), so every story also exercises the
dashboard's reconnect-and-resume path. Screenshots go to `artifacts/screenshots/` (git-ignored; override
with DASHBOARD_SCREENSHOTS).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright
from redis import Redis

from functions.cli.redis_server import RedisServer, free_port
from functions.config import Settings, load_settings
from runner.engines.webjs.browser import LAUNCH_ARGS
from tests.integration.webhooks.conftest import Receiver
from tests.live import REPO_ROOT, gateway_env, stop_process

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or REPO_ROOT / "artifacts" / "screenshots")
BOOT_TIMEOUT_SECONDS = 40.0
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}  # the phone width
KEY_STORAGE = "openwa.dashboard.apiKey"


@dataclass
class Gateway:
    """A running `openwa up --sandbox`: its URLs, admin key and Redis, and the webhook receiver."""

    base_url: str
    sandbox_url: str
    master_key: str
    settings: Settings
    receiver: Receiver
    log_path: Path

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The gateway's API with the admin key (what a test checks behind the page's back)."""
        headers = {"X-API-Key": self.master_key, **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.base_url}{path}", headers=headers, timeout=15.0, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """The sandbox control API (`/_sandbox/...`); raises on an error status."""
        response = httpx.request(method, f"{self.sandbox_url}/_sandbox{path}", timeout=10.0, **kwargs)
        response.raise_for_status()
        return response.json()

    def redis(self) -> Redis:
        return Redis.from_url(self.settings.redis_url)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _openwa() -> list[str]:
    script = Path(sys.executable).with_name("openwa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "functions.cli"]


def _wait_up(gateway: Gateway, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
    urls = [f"{gateway.base_url}/api/health/ready", f"{gateway.sandbox_url}/_sandbox/health"]
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"openwa up exited with {process.returncode}:\n{gateway.log()}")
        try:
            if all(httpx.get(url, timeout=2.0).status_code == 200 for url in urls):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"openwa up --sandbox not ready within {BOOT_TIMEOUT_SECONDS:.0f} s:\n{gateway.log()}")


@pytest.fixture(scope="module")
def gateway(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("dashboard")
    conn = Redis.from_url(redis_server.url)
    conn.flushall()
    conn.close()
    receiver = Receiver()
    receiver.start()
    port, sandbox_port = free_port(), free_port()
    master_key = "owa_k1_" + secrets.token_hex(32)
    env = gateway_env(
        redis_server.url,
        workdir / "data",
        master_key,
        SANDBOX_PORT=str(sandbox_port),
        SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}/",
        CHROMIUM_PATH=CHROMIUM,
        SSRF_ALLOWED_HOSTS="127.0.0.1",
        SSE_MAX_SECONDS="5",
        SSE_KEEPALIVE_SECONDS="2",
        RUNNER_COMMAND_TIMEOUT_SECONDS="20",
    )
    argv = [*_openwa(), "up", "--sandbox", "--workers", "1", "--port", str(port)]
    argv += ["--data-dir", str(workdir / "data")]
    log_path = workdir / "openwa-up.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    gateway = Gateway(
        f"http://127.0.0.1:{port}",
        f"http://127.0.0.1:{sandbox_port}",
        master_key,
        load_settings(_env_file=None, redis_url=redis_server.url, data_dir=workdir / "data"),
        receiver,
        log_path,
    )
    try:
        _wait_up(gateway, process)
        yield gateway
    finally:
        stop_process(process, timeout=20.0)
        receiver.stop()


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = CHROMIUM if Path(CHROMIUM).exists() else None
    chromium = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
    yield chromium
    chromium.close()


@dataclass
class Watched:
    """A page plus what it logged: console errors, CSP violations, and every request URL it made."""

    page: Page
    context: BrowserContext
    problems: list[str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def watched(browser: Browser, gateway: Gateway) -> Iterator[Watched]:
    """A fresh browser context (empty sessionStorage) at desktop width, on the dashboard."""
    context = browser.new_context(viewport=DESKTOP, base_url=gateway.base_url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    watched = Watched(page, context)

    def on_console(message: ConsoleMessage) -> None:
        # A refused key answers 401 on purpose; the browser logs each failed fetch, which is not a fault.
        if message.type == "error" and "status of 401" not in message.text:
            watched.problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    page.on("request", lambda request: watched.requests.append((request.url, request.headers)))
    try:
        yield watched
    finally:
        context.close()


def sign_in(page: Page, key: str) -> None:
    """Open the dashboard and connect with `key`, as a person pastes it."""
    page.goto("/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Connect").click()


def shoot(page: Page, name: str) -> None:
    """Screenshots of the current page at 1280 px and 390 px (then back to desktop)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in ((str(DESKTOP["width"]), DESKTOP), (str(PHONE["width"]), PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(400)  # one layout pass, and pages that redraw on resize (debounced 200 ms)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
