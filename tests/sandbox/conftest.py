"""Sandbox fixtures: one live `openwa sandbox` process and one Chromium for the whole run.

Each test gets a reset network (`sandbox`), and pages in fresh browser contexts (`open_page`). The page has
no `window.WPP` of its own: like the engine, a context gets the sandbox's WPP double as init scripts
(`WPP_DOUBLE_SCRIPTS`, the sandbox's wa-js), then a recorder of every WPP event in `window.__events`
(through `WPP.onAny`, the way an engine listens), kept in sessionStorage so that it survives the reloads
WhatsApp Web makes (after linking, after a logout).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from playwright.sync_api import Error as PlaywrightError

from functions.cli.redis_server import free_port
from runner.engines.webjs.browser import LAUNCH_ARGS  # the flags the engine itself launches with
from runner.sandbox import WPP_DOUBLE_SCRIPTS

QR_INTERVAL = 1.0  # seconds; WhatsApp's (and the sandbox's default) 20 s would make the rotation test slow
RECORD_EVENTS = """(() => {
  if (window.top !== window || !window.WPP) return;
  window.__events = JSON.parse(sessionStorage.getItem('__events') || '[]');
  WPP.onAny((name, ...args) => {
    window.__events.push({ name, args: JSON.parse(JSON.stringify(args)) });
    sessionStorage.setItem('__events', JSON.stringify(window.__events));
  });
})();"""
LINKED = (
    "() => window.WPP && WPP.isReady && WPP.conn.isRegistered() && WPP.conn.getStreamData().mode === 'MAIN'"
)


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running `openwa sandbox` (QR rotating every second) on a free port; its URL."""
    port, data = free_port(), tmp_path_factory.mktemp("sandbox")
    command = [sys.executable, "-m", "functions.cli", "sandbox", "--port", str(port)]
    command += ["--data-dir", str(data), "--qr-interval", str(QR_INTERVAL)]
    log = data / "sandbox.log"  # a file, not a pipe: an unread pipe would fill and stall the server
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sandbox exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox did not come up within 20 s")


class SandboxClient:
    """The control API, for tests: thin helpers that raise on unexpected statuses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def post(self, path: str, body: Any, expect: int = 200) -> Any:
        response = self.http.post(path, json=body)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, path: str) -> Any:
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def phone(self, number: str, name: str) -> Any:
        return self.post("/_sandbox/phones", {"number": number, "name": name}, 201)

    def inbox(self, number: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get(f"/_sandbox/phones/{number}/messages")
        return result


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[SandboxClient]:
    client = SandboxClient(sandbox_url)
    client.post("/_sandbox/reset", {})
    yield client
    client.http.close()


def chromium_path() -> str | None:
    """CHROMIUM_PATH, else the system Chromium, else None (Playwright's own browser)."""
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        "/usr/bin/chromium",
        "/usr/bin/chromium-headless-shell",
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the run, launched with the flags that work on these machines."""
    launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def open_page(browser: Browser, sandbox: SandboxClient) -> Iterator[Callable[..., Page]]:
    """Open the WhatsApp Web double in a new context (optionally from a storage state) and record events."""
    contexts: list[BrowserContext] = []

    def opener(storage_state: Any = None) -> Page:
        context = browser.new_context(storage_state=storage_state)
        contexts.append(context)
        inject_double(context)
        page = context.new_page()
        page.goto(sandbox.url + "/")
        page.wait_for_function("() => window.WPP && WPP.isReady")
        return page

    yield opener
    for context in contexts:
        context.close()


def inject_double(context: BrowserContext) -> None:
    """What the engine does to a context (`runner.engines.webjs.page_setup`): the WPP double, then ours."""
    for path in WPP_DOUBLE_SCRIPTS:
        context.add_init_script(path=str(path))
    context.add_init_script(script=RECORD_EVENTS)


def wait_event(page: Page, name: str, predicate: str = "true", timeout: float = 10_000) -> Any:
    """The args of the first recorded `name` event for which the JS expression `predicate` (over `args`)
    holds; waits up to `timeout` ms. Polled, so a navigation under it (the page reloads after a link and
    after a logout) only costs a retry: the record survives it in sessionStorage."""
    script = f"""(name) => {{
      const found = (window.__events || []).find((e) => e.name === name && ((args) => {predicate})(e.args));
      return found ? found.args : null;
    }}"""
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        try:
            found = page.evaluate(script, name)
        except PlaywrightError:  # the execution context went with a navigation
            found = None
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {name} event matching {predicate} within {timeout:.0f} ms")


def link_by_qr(page: Page, sandbox: SandboxClient, number: str) -> None:
    """Scan the page's current QR with phone `number` and wait until the page is ready."""
    qr = current_qr(page)
    sandbox.post(f"/_sandbox/phones/{number}/link", {"qr": qr})
    wait_linked(page)


def wait_linked(page: Page, timeout: float = 10_000) -> None:
    """Wait until the page is linked and its stream is live (after the reload that follows a link)."""
    page.wait_for_function(LINKED, timeout=timeout)


def current_qr(page: Page, timeout: float = 10.0) -> str:
    """The raw QR string the page shows now (WPP.conn.getAuthCode().fullCode), waiting for one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code: str | None = page.evaluate("() => WPP.conn.getAuthCode().then((code) => code && code.fullCode)")
        if code:
            return code
        page.wait_for_timeout(50)
    raise AssertionError("the page showed no QR")


ALICE, BOB = "15550000001", "15550000002"


@pytest.fixture
def alice(sandbox: SandboxClient, open_page: Callable[..., Page]) -> Page:
    """Alice's WhatsApp Web, linked; Bob is a phone without a browser."""
    sandbox.phone(ALICE, "Alice")
    sandbox.phone(BOB, "Bob")
    page = open_page()
    link_by_qr(page, sandbox, ALICE)
    return page
