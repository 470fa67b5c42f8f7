"""Which recorded WhatsApp Web page the engine pins (`runner.engines.webjs.versions`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.engines.webjs.versions import (
    WA_VERSION_HTML,
    UnknownWhatsAppWebVersion,
    available,
    pinned_page,
)


def _pages(tmp_path: Path, *versions: str) -> Path:
    for version in versions:
        (tmp_path / f"{version}.html").write_text("<!doctype html>")
    (tmp_path / "README.md").write_text("not a page")
    return tmp_path


def test_the_setup_installs_recorded_pages_next_to_wa_js() -> None:
    assert available(), f"no pages in {WA_VERSION_HTML}: scripts/setup installs runner/package.json"


def test_empty_means_the_newest_page_by_version_not_by_name(tmp_path: Path) -> None:
    pages = _pages(tmp_path, "2.3000.999999999-alpha", "2.3000.1000000000-alpha", "2.2412.54")
    pinned = pinned_page("", pages)
    assert pinned is not None
    assert pinned.version == "2.3000.1000000000-alpha"
    assert pinned.path == pages / "2.3000.1000000000-alpha.html"


def test_a_named_version_is_that_page_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    pages = _pages(tmp_path, "2.3000.1-alpha", "2.3000.2-alpha")
    assert pinned_page("2.3000.1-alpha", pages).version == "2.3000.1-alpha"  # type: ignore[union-attr]
    with pytest.raises(UnknownWhatsAppWebVersion, match=r"2\.3000\.2-alpha"):
        pinned_page("2.3000.3-alpha", pages)


def test_none_unpins_and_a_missing_package_pins_nothing(tmp_path: Path) -> None:
    assert pinned_page("none", _pages(tmp_path, "2.3000.1-alpha")) is None
    assert pinned_page("", tmp_path / "absent") is None
