"""The WPP double against the pinned wa-js's `.d.ts`: no function wa-js does not declare, the same parameter
counts, only declared event names; and everything the runner and messaging issues call is there."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.sandbox.conftest import SandboxClient
from tests.sandbox.wajs_dts import RUNNER, Declarations, count_parameters, ensure_installed, read

# What the engine (runner issue) and messaging issue call; each must exist in the double.
REQUIRED = {
    "conn": "getAuthCode genLinkDeviceCodeForPhoneNumber isAuthenticated isMainReady logout getMyUserId",
    "chat": (
        "sendTextMessage sendFileMessage sendLocationMessage sendVCardContactMessage "
        "sendCreatePollMessage sendReactionToMessage editMessage deleteMessage forwardMessage markIsRead "
        "markIsUnread markIsComposing markIsPaused list get getMessages getMessageById archive pin mute "
        "delete clear downloadMedia starMessage"
    ),
    "contact": "get list queryWidExists getProfilePictureUrl getStatus",
    "group": "create addParticipants removeParticipants promoteParticipants demoteParticipants setSubject "
    "setDescription getInviteCode revokeInviteCode join leave getParticipants getAllGroups ensureGroup "
    "iAmAdmin setProperty setIcon removeIcon getGroupInfoFromInviteCode getMembershipRequests approve reject",
    "blocklist": "all isBlocked blockContact unblockContact",
    "profile": "getMyProfileName setMyProfileName getMyStatus setMyStatus",
}
SURFACE = """() => {
  const out = { top: {}, namespaces: {} };
  for (const [name, value] of Object.entries(WPP)) {
    if (typeof value === 'function') out.top[name] = value.length;
    else if (value && typeof value === 'object') {
      out.namespaces[name] = {};
      for (const [fn, impl] of Object.entries(value)) {
        if (typeof impl === 'function') out.namespaces[name][fn] = impl.length;
      }
    } else out.top[name] = null;
  }
  return out;
}"""


@pytest.fixture(scope="module")
def declared() -> Declarations:
    return read(ensure_installed())


@pytest.fixture
def surface(sandbox: SandboxClient, open_page: Callable[..., Page]) -> dict[str, dict[str, object]]:
    result: dict[str, dict[str, object]] = open_page().evaluate(SURFACE)
    return result


def test_wa_js_is_pinned_exactly() -> None:
    package = json.loads((RUNNER / "package.json").read_text())
    version = package["dependencies"]["@wppconnect/wa-js"]
    assert version[0].isdigit(), "pin an exact version"
    lock = json.loads((RUNNER / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@wppconnect/wa-js"]["version"] == version


def test_every_wpp_function_is_declared_by_wa_js_with_the_same_parameter_count(
    declared: Declarations, surface: dict[str, dict[str, object]]
) -> None:
    problems = []
    for name in surface["top"]:
        if name not in declared.top_level:
            problems.append(f"WPP.{name} is not exported by wa-js")
    namespaces = surface["namespaces"]
    assert isinstance(namespaces, dict)
    for namespace, functions in namespaces.items():
        for name, length in functions.items():
            counts = declared.functions.get(namespace, {}).get(name)
            if counts is None:
                problems.append(f"WPP.{namespace}.{name} is not declared by wa-js")
            elif length not in counts:
                problems.append(f"WPP.{namespace}.{name} takes {length} parameters, wa-js declares {counts}")
    assert problems == []


def test_the_double_has_everything_the_engine_and_messaging_call(
    surface: dict[str, dict[str, object]],
) -> None:
    namespaces = surface["namespaces"]
    assert isinstance(namespaces, dict)
    missing = [
        f"{ns}.{fn}" for ns, names in REQUIRED.items() for fn in names.split() if fn not in namespaces[ns]
    ]
    assert missing == []
    assert {"on", "off", "isReady"} <= set(surface["top"])


# Every `WPP.<namespace>.<function>(` the engine's sources call (its Python page scripts and calls/*.js).
_WPP_CALL = re.compile(r"\bWPP\.([a-z]+)\.([A-Za-z]+)\(")
ENGINE_DIR = Path(__file__).resolve().parents[2] / "runner" / "engines" / "webjs"


def engine_calls() -> set[tuple[str, str]]:
    sources = [*ENGINE_DIR.glob("*.py"), *ENGINE_DIR.glob("*.js"), *ENGINE_DIR.glob("calls/*.js")]
    return {match for path in sources for match in _WPP_CALL.findall(path.read_text())}


def test_every_wpp_call_of_the_engine_is_declared_by_wa_js_and_in_the_double(
    declared: Declarations, surface: dict[str, dict[str, object]]
) -> None:
    calls = engine_calls()
    assert {("group", "setIcon"), ("chat", "find")} <= calls  # the scan finds calls in .py and .js alike
    namespaces = surface["namespaces"]
    assert isinstance(namespaces, dict)
    undeclared = sorted(f"{ns}.{fn}" for ns, fn in calls if fn not in declared.functions.get(ns, {}))
    missing = sorted(f"{ns}.{fn}" for ns, fn in calls if fn not in namespaces.get(ns, {}))  # type: ignore[operator]
    assert (undeclared, missing) == ([], [])


def test_the_double_emits_only_event_names_wa_js_declares(
    declared: Declarations, sandbox: SandboxClient, open_page: Callable[..., Page]
) -> None:
    emitted = set(open_page().evaluate("() => window.__waSandbox.EVENTS"))
    assert "chat.new_message" in declared.events  # the parser found the declarations
    assert emitted - declared.events == set()


def test_parameter_counting_handles_nested_types() -> None:
    text = "f(a: {x: number, y: Array<string>}, b?: (p: string, q: number) => void, c?: Map<K, V>): void"
    assert count_parameters(text, 1) == 3
    assert count_parameters("g(): void", 1) == 0


def test_functions_never_import_runner() -> None:
    root = Path(__file__).resolve().parents[2] / "functions"
    offenders = [
        str(path)
        for path in root.rglob("*.py")
        if any(
            line.lstrip().startswith(("import runner", "from runner"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []
