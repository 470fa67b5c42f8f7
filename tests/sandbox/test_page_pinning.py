"""The engine's pin of the WhatsApp Web page (`page_setup.pin_page`), on the sandbox's origin: the document
request is answered with the recorded page, other requests go through, update checks are aborted."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from playwright.async_api import async_playwright

from runner.engines.webjs.browser import LAUNCH_ARGS
from runner.engines.webjs.page_setup import pin_page
from tests.sandbox.conftest import SandboxClient, chromium_path

RECORDED = "<!doctype html><title>recorded WhatsApp Web 2.3000.1-alpha</title><p>pinned</p>"
PROBE = """async () => {
  const asset = await fetch('/_wa/static/style.css').then((r) => r.status, () => 'failed');
  const check = '/check-update?version=2.3000.1&platform=web';
  const update = await fetch(check).then((r) => r.status, () => 'aborted');
  return { title: document.title, asset, update };
}"""


def test_the_pinned_page_is_served_for_the_document_and_update_checks_are_aborted(
    sandbox: SandboxClient,
) -> None:
    async def story() -> dict[str, object]:
        async with async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
            try:
                context = await browser.new_context()
                await pin_page(context, sandbox.url + "/", RECORDED)
                page = await context.new_page()
                await page.goto(sandbox.url + "/")
                result: dict[str, object] = await page.evaluate(PROBE)
                return result
            finally:
                await browser.close()

    # Its own thread: the session's sync Playwright keeps an event loop running on this one.
    with ThreadPoolExecutor(1) as thread:
        seen = thread.submit(asyncio.run, story()).result(timeout=60)
    assert seen == {"title": "recorded WhatsApp Web 2.3000.1-alpha", "asset": 200, "update": "aborted"}
