"""The sandbox page is as strict as WhatsApp Web toward whoever injects into it: its own CSP, no `WPP` of its
own, and the navigations WhatsApp Web makes (a reload after linking, `?post_logout=1` after a logout)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from runner.sandbox import WPP_DOUBLE_SCRIPTS
from tests.sandbox.conftest import SandboxClient, link_by_qr


def test_the_page_forbids_inline_and_eval_scripts(sandbox: SandboxClient) -> None:
    policy = httpx.get(sandbox.url + "/").headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_the_page_has_no_wpp_and_refuses_an_injected_script_tag(
    sandbox: SandboxClient, browser: Browser
) -> None:
    # page.add_script_tag inserts an inline <script>: WhatsApp Web's CSP refuses it (wppconnect #2109), and so
    # does the sandbox, so an engine that injects that way fails here as it would there.
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(sandbox.url + "/")
        page.wait_for_function("() => window.__waSandbox && window.__waSandbox.state")
        assert page.evaluate("() => typeof window.WPP") == "undefined"
        with pytest.raises(PlaywrightError):
            page.add_script_tag(path=str(WPP_DOUBLE_SCRIPTS[0]))
        assert page.evaluate("() => typeof window.WPP") == "undefined"
    finally:
        context.close()


def test_a_logout_navigates_to_the_post_logout_page_which_shows_a_qr(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    sandbox.phone("15550000001", "Alice")
    page = open_page()
    link_by_qr(page, sandbox, "15550000001")
    with page.expect_navigation(url="**/?post_logout=1"):
        page.evaluate("() => { WPP.conn.logout(); }")
    page.wait_for_function("() => window.WPP && WPP.isReady && WPP.conn.getStreamData().mode === 'QR'")
    assert page.evaluate("() => WPP.conn.isRegistered()") is False
