"""What a session's browser context runs before any page script: wa-js's config, wa-js, the bridge.

All three are context init scripts, so they run in every document the context loads (WhatsApp Web reloads
after linking, after a logout and on updates: wa-js would be gone after each if injected once into the
page) and they are not subject to the page's CSP (WhatsApp Web allows no inline script; Playwright's
`add_script_tag` inserts one and fails there, wppconnect #2109). wa-js's loader is built for early
injection: it traps WhatsApp's module loader as it appears.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Route

BRIDGE_PATH = Path(__file__).parent / "bridge.js"
# wa-js reads `window.WPPConfig` once, when it loads (src/config/index.ts), so it must be set before it.
WPP_CONFIG: dict[str, Any] = {
    # The default (false) sends Google Analytics beacons about the customer's account (logins, logouts,
    # exceptions, WhatsApp version; wa-js src/gtag) to a third party.
    "disableGoogleAnalytics": True,
    # wa-js's default brands what the linked device sends as "WA-JS"; customers send as themselves.
    "poweredBy": None,
}


def config_script(config: dict[str, Any]) -> str:
    """The init script that sets `window.WPPConfig` (merged over any already there)."""
    return f"window.WPPConfig = Object.assign({{}}, window.WPPConfig, {json.dumps(config)});"


async def pin_page(context: BrowserContext, url: str, html: str) -> None:
    """Answer the document request for `url` with `html` (a recorded WhatsApp Web page, `versions.py`), and
    abort the page's update checks, which would reload it into the newest version (wppconnect does both)."""

    async def document(route: Route) -> None:
        if route.request.resource_type == "document":
            await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            await route.continue_()

    async def no_update_check(route: Route) -> None:
        await route.abort()

    await context.route(url, document)
    await context.route("**/check-update?*", no_update_check)


async def prepare(context: BrowserContext, wpp_scripts: Sequence[Path]) -> None:
    """Install, in order, the config, the scripts that make `window.WPP` (wa-js or the sandbox's double),
    and the bridge that forwards its events to the engine."""
    await context.add_init_script(script=config_script(WPP_CONFIG))
    for path in wpp_scripts:
        await context.add_init_script(path=str(path))
    await context.add_init_script(path=str(BRIDGE_PATH))
