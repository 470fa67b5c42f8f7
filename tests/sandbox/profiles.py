"""The WhatsApp Web double in a persistent-profile Chromium, as the engine runs it: for tests that take a
profile's login files (`runner.engines.webjs.profile`) from one browser and bring them back in another."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Playwright

from runner.engines.webjs.browser import LAUNCH_ARGS
from tests.sandbox.conftest import chromium_path, inject_double


def open_profile(playwright: Playwright, profile_dir: Path, url: str) -> tuple[BrowserContext, Page]:
    """A Chromium on `profile_dir` showing the sandbox page at `url`, with the WPP double and the event
    recorder injected (as `open_page` does). The caller closes the context; closing it is also what makes
    Chromium write its pending localStorage to the profile (see `runner.engines.webjs.profile`)."""
    context = playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS
    )
    inject_double(context)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url + "/")
    page.wait_for_function("() => window.WPP && WPP.isReady")
    return context, page
