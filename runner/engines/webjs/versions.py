"""Pinning the WhatsApp Web version, as wppconnect does with npm `@wppconnect/wa-version`.

WhatsApp Web updates itself often, and wa-js breaks when WhatsApp renames the internal modules it hooks. So
the engine does not take whatever page web.whatsapp.com serves today: it answers the page's own document
request with a recorded WhatsApp Web page (`@wppconnect/wa-version`'s `html/<version>.html`, pinned in
`runner/package.json` next to wa-js; its scripts still load from WhatsApp's servers), and aborts the page's
`check-update` calls, which would make it reload into the newest version. A page that says it must update
anyway (`conn.needs_update`) stops the session at `action_required`: bump both packages together.

`WHATSAPP_WEB_VERSION`: empty for the newest page the installed package has, a version such as
`2.3000.1048032155-alpha` for that one, or `none` to load whatever WhatsApp serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

WA_VERSION_HTML = Path(__file__).resolve().parents[2] / "node_modules/@wppconnect/wa-version/html"
UNPINNED = "none"
_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[a-z]+)?$")


class UnknownWhatsAppWebVersion(ValueError):
    """WHATSAPP_WEB_VERSION names a page the installed @wppconnect/wa-version does not have."""


@dataclass(frozen=True)
class PinnedPage:
    version: str
    path: Path


def _sort_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def available(directory: Path = WA_VERSION_HTML) -> list[str]:
    """The WhatsApp Web versions recorded in the installed package, oldest first."""
    if not directory.is_dir():
        return []
    versions = [path.stem for path in directory.glob("*.html") if _VERSION.match(path.stem)]
    return sorted(versions, key=_sort_key)


def pinned_page(wanted: str, directory: Path = WA_VERSION_HTML) -> PinnedPage | None:
    """The page to serve for `wanted` (see the module's docstring); None when unpinned or when the package
    is not installed and no version was asked for (the engine then loads today's page, and says so)."""
    wanted = wanted.strip()
    if wanted.lower() == UNPINNED:
        return None
    versions = available(directory)
    if not wanted:
        return PinnedPage(versions[-1], directory / f"{versions[-1]}.html") if versions else None
    if wanted not in versions:
        newest = versions[-1] if versions else "none installed"
        raise UnknownWhatsAppWebVersion(
            f"WHATSAPP_WEB_VERSION={wanted} is not in @wppconnect/wa-version (newest: {newest})"
        )
    return PinnedPage(wanted, directory / f"{wanted}.html")
