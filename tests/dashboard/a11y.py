"""The accessibility check of the dashboard tests: axe-core (vendored, pinned; see vendor/README.md), injected
into the page under test and run on the whole document. `serious` and `critical` violations fail the test."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_VERSION = "4.10.3"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"
BLOCKING = ("serious", "critical")


def _check_vendored() -> None:
    digest = hashlib.sha256(AXE.read_bytes()).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not axe-core {AXE_VERSION} as vendored (sha256 {digest})"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe on the page as it is now; its violations (rule id, impact, help, the offending nodes)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        _check_vendored()
        page.add_script_tag(path=str(AXE))
    assert page.evaluate("axe.version") == AXE_VERSION
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return list(result["violations"])


def assert_accessible(page: Page, where: str) -> None:
    """No serious or critical axe violation on the page; the message lists each one with its nodes."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    report = [
        f"{v['impact']} {v['id']}: {v['help']} -> "
        + "; ".join(f"{node['target']} ({node.get('failureSummary', '')})" for node in v["nodes"][:5])
        for v in blocking
    ]
    assert not blocking, f"axe found on {where}:\n" + "\n".join(report)
