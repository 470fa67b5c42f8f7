"""Launching Chromium for one session: binary, flags, user agent, a scratch HOME and a persistent profile.

The browser runs a persistent context (a Chromium user-data dir): WhatsApp Web keeps its local key as a
non-extractable CryptoKey in IndexedDB, which only the profile's files carry across restarts (Playwright's
`storage_state` cannot serialize a CryptoKey, Playwright #35946), so auth persistence archives the profile
(`profile.py`). Flags are the set that works in containers here (`reference/stack.md` §2), plus
`--disable-blink-features=AutomationControlled`, as wppconnect and whatsapp-web.js launch: without it
`navigator.webdriver` tells every page the browser is automated. Chromium writes crash reports and dconf
caches under HOME/XDG dirs, so each browser gets a scratch directory instead of the user's home.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import BrowserContext, Playwright

LAUNCH_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--disable-blink-features=AutomationControlled",
    # localStorage reaches the profile's files ~1 s after a write instead of ~5 s (then once a minute): a
    # snapshot soon after linking must hold WhatsApp's WebEncKeySalt, or the restore shows a QR.
    "--enable-aggressive-domstorage-flushing",
]
# Used only when the browser's version cannot be read: a desktop Chrome string (WhatsApp Web refuses
# "HeadlessChrome"); normally the user agent names the version actually launched (`user_agent_for`).
FALLBACK_CHROME_VERSION = "143"
log = logging.getLogger(__name__)
_VERSION = re.compile(r"(\d+)\.\d+\.\d+\.\d+")


@dataclass(frozen=True)
class BrowserProxy:
    """The proxy a session's browser sends all of its traffic through (`functions.core.proxy`)."""

    server: str  # scheme://host:port
    username: str | None = None
    password: str | None = None

    def playwright(self) -> dict[str, str]:
        """Playwright's `proxy` option. `<-loopback>` takes away Chromium's implicit bypass of loopback
        (net/docs/proxy.md, "Implicit bypass rules"), so a session with a proxy sends everything through it,
        a page served from 127.0.0.1 (the sandbox) included. Playwright adds the same rule unless the
        bypass list names loopback (or PLAYWRIGHT_DISABLE_FORCED_CHROMIUM_PROXIED_LOOPBACK is set); it is
        set here so that the rule does not depend on that default."""
        option = {"server": self.server, "bypass": "<-loopback>"}
        if self.username is not None:
            option.update(username=self.username, password=self.password or "")
        return option


@dataclass(frozen=True)
class BrowserOptions:
    headless: bool = True
    chromium_path: str | None = None
    proxy: BrowserProxy | None = None


def chromium_executable(playwright: Playwright, configured: str | None) -> str | None:
    """CHROMIUM_PATH, else Playwright's own browser, else a system `chromium` on PATH (None: Playwright's,
    which then fails with its own message naming `playwright install`)."""
    if configured:
        return configured
    bundled = playwright.chromium.executable_path
    if bundled and Path(bundled).exists():
        return None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chrome_major_version(executable: str | None) -> str:
    """The major version of the Chromium at `executable` (`chromium --version`), or the fallback."""
    if not executable:
        return FALLBACK_CHROME_VERSION
    try:
        output = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=15, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return FALLBACK_CHROME_VERSION
    match = _VERSION.search(output)
    return match.group(1) if match else FALLBACK_CHROME_VERSION


def user_agent_for(major_version: str) -> str:
    """A desktop Chrome user agent for the launched version, in Chrome's reduced form (minor parts 0): a
    user agent naming another version than the engine's own is a fingerprint mismatch."""
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major_version}.0.0.0 Safari/537.36"
    )


class ScratchHome:
    """A temporary HOME/XDG tree and the Chromium profile dir for one browser, removed by `cleanup`."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="openwa-chromium-"))
        self.profile = self.path / "profile"

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


def user_namespaces_available() -> bool:
    """Whether this kernel lets an unprivileged process create a user namespace (Chromium's sandbox needs
    one, or a setuid helper that Debian's package does not ship)."""
    for path, off in (
        ("/proc/sys/user/max_user_namespaces", "0"),
        ("/proc/sys/kernel/unprivileged_userns_clone", "0"),
    ):
        try:
            if Path(path).read_text().strip() == off:
                return False
        except OSError:  # the Debian-only switch may be absent: then it is not what forbids them
            continue
    return True


def sandbox_decision(euid: int, user_namespaces: bool) -> tuple[bool, str]:
    """Whether to run Chromium in its own sandbox, and why not when it cannot be: Chromium refuses its
    sandbox to root, and without user namespaces it cannot build one. The images run as a non-root user,
    so there the renderers are sandboxed; `--no-sandbox` is only for where it cannot work."""
    if euid == 0:
        return False, "running as root (Chromium refuses its sandbox to root; run the runner as another user)"
    if not user_namespaces:
        return False, "this kernel allows no unprivileged user namespaces (user.max_user_namespaces)"
    return True, "sandboxed"


_warned_unsandboxed = False


def _sandbox() -> bool:
    global _warned_unsandboxed
    sandboxed, reason = sandbox_decision(os.geteuid(), user_namespaces_available())
    if not sandboxed and not _warned_unsandboxed:
        log.warning("Chromium runs without its sandbox: %s", reason)
        _warned_unsandboxed = True
    return sandboxed


async def launch(playwright: Playwright, options: BrowserOptions, home: ScratchHome) -> BrowserContext:
    """A persistent-profile Chromium (profile `home.profile`) with our flags and a matching user agent, in
    Chromium's sandbox where it can be (`sandbox_decision`; Playwright adds `--no-sandbox` otherwise)."""
    executable = chromium_executable(playwright, options.chromium_path)
    version = chrome_major_version(executable or playwright.chromium.executable_path)
    home.profile.mkdir(parents=True, exist_ok=True)
    return await playwright.chromium.launch_persistent_context(
        str(home.profile),
        executable_path=executable,
        headless=options.headless,
        chromium_sandbox=_sandbox(),
        args=LAUNCH_ARGS,
        env=home.environment(),
        user_agent=user_agent_for(version),
        proxy=options.proxy.playwright() if options.proxy is not None else None,  # type: ignore[arg-type]
    )
