"""Every `WPP.*` the webjs engine calls (its Python page-function strings, `calls/*.js` and the bridge) is
declared by the pinned wa-js `.d.ts`, and implemented by the sandbox's WPP double — so what passes against
the sandbox is not calling something real WhatsApp Web does not have."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.sandbox.conftest import SandboxClient
from tests.sandbox.test_contract import SURFACE
from tests.sandbox.wajs_dts import RUNNER, Declarations, ensure_installed, read

ENGINE = RUNNER / "engines" / "webjs"
_CALL = re.compile(r"\bWPP\.(\w+)(?:\.(\w+))?")


def engine_calls() -> dict[str, set[Path]]:
    """`ns.fn` (or a bare top-level name) -> the engine files that use it."""
    found: dict[str, set[Path]] = {}
    for path in [*ENGINE.glob("*.py"), *ENGINE.glob("*.js"), *ENGINE.glob("calls/*.js")]:
        for namespace, function in _CALL.findall(path.read_text("utf-8")):
            name = f"{namespace}.{function}" if function else namespace
            found.setdefault(name, set()).add(path.relative_to(RUNNER))
    return found


@pytest.fixture(scope="module")
def declared() -> Declarations:
    return read(ensure_installed())


def test_the_scan_sees_the_engine_calls() -> None:
    calls = engine_calls()
    for expected in ("chat.sendTextMessage", "chat.getMessageById", "chat.pinMsg", "contact.list", "on"):
        assert expected in calls, f"the scan missed WPP.{expected}"


def test_every_wpp_call_of_the_engine_is_declared_by_wa_js(declared: Declarations) -> None:
    problems = []
    for name, paths in sorted(engine_calls().items()):
        where = ", ".join(sorted(str(p) for p in paths))
        if "." in name:
            namespace, function = name.split(".", 1)
            if function not in declared.functions.get(namespace, {}):
                problems.append(f"WPP.{name} ({where}) is not declared by wa-js")
        elif name not in declared.top_level and name not in declared.functions:
            problems.append(f"WPP.{name} ({where}) is not exported by wa-js")
    assert not problems, "\n".join(problems)


def test_every_wpp_call_of_the_engine_is_implemented_by_the_sandbox(
    sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    surface = open_page().evaluate(SURFACE)
    missing = []
    for name in sorted(engine_calls()):
        if "." in name:
            namespace, function = name.split(".", 1)
            if function not in surface["namespaces"].get(namespace, {}):
                missing.append(f"WPP.{name}")
        elif name not in surface["top"] and name not in surface["namespaces"]:
            missing.append(f"WPP.{name}")
    assert not missing, f"the sandbox's WPP lacks: {', '.join(missing)}"
