"""Launching Chromium for one session: flags, binary, user agent and a scratch HOME.

Flags are the set that works in containers here (`reference/stack.md` §2). Chromium writes crash reports and
dconf caches under HOME/XDG dirs, so each browser gets a scratch directory instead of the user's home.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, Playwright

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
# WhatsApp Web refuses headless user agents ("HeadlessChrome"); a current desktop Chrome string passes.
DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)


@dataclass(frozen=True)
class BrowserOptions:
    headless: bool = True
    chromium_path: str | None = None


def chromium_executable(playwright: Playwright, configured: str | None) -> str | None:
    """CHROMIUM_PATH, else Playwright's own browser, else a system `chromium` on PATH (None: Playwright's,
    which then fails with its own message naming `playwright install`)."""
    if configured:
        return configured
    bundled = playwright.chromium.executable_path
    if bundled and Path(bundled).exists():
        return None
    return shutil.which("chromium") or shutil.which("chromium-browser")


class ScratchHome:
    """A temporary HOME/XDG tree for one browser, removed by `cleanup`."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="openwa-chromium-"))

    def environment(self) -> dict[str, str | float | bool]:
        env: dict[str, str | float | bool] = dict(os.environ)
        env.update(
            HOME=str(self.path),
            XDG_CONFIG_HOME=str(self.path / ".config"),
            XDG_CACHE_HOME=str(self.path / ".cache"),
            XDG_DATA_HOME=str(self.path / ".local/share"),
        )
        return env

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


async def launch(playwright: Playwright, options: BrowserOptions, home: ScratchHome) -> Browser:
    """A Chromium with our flags, its files under `home`."""
    return await playwright.chromium.launch(
        executable_path=chromium_executable(playwright, options.chromium_path),
        headless=options.headless,
        args=LAUNCH_ARGS,
        env=home.environment(),
    )
