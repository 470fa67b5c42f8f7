"""Every `WPP.*` the webjs engine calls (its Python page-function strings, `calls/*.js` and the bridge) is
declared by the pinned wa-js `.d.ts`, and implemented by the sandbox's WPP double — so what passes against
the sandbox is not calling something real WhatsApp Web does not have. The same goes for the option names the
engine's send passes to `WPP.chat.send*` and the result fields it reads (`SendMessageReturn`,
`sendMsgResult`): recorded by running the engine's own send function against a recording `WPP`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from runner.engines.webjs.engine import _SEND_MESSAGE
from tests.sandbox.conftest import SandboxClient
from tests.sandbox.test_contract import SURFACE
from tests.sandbox.wajs_dts import (
    RUNNER,
    Declarations,
    Types,
    ensure_installed,
    options_type,
    read,
    read_types,
)

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


# A `WPP` that records what the engine's send passes (function, option names) and which fields of the
# SendMessageReturn it reads (a Proxy logs every property read, `sendMsgResult.*` included).
_RECORDING_WPP = """() => {
  window.__calls = []; window.__reads = [];
  const track = (target, path) => new Proxy(target, {
    get(object, key) {
      if (typeof key !== 'string' || key === 'then' || key === 'toJSON') return object[key];
      window.__reads.push(path + key);
      const value = object[key];
      return value && typeof value === 'object' ? track(value, path + key + '.') : value;
    },
  });
  const result = () => track({
    id: 'true_15550000002@lid_3EB0AA', ack: 1, from: '15550000001@c.us', to: '15550000002@lid',
    sendMsgResult: { messageSendResult: 'OK', t: 1, count: null },
  }, '');
  const chat = {
    find: async (id) => ({ id: { _serialized: String(id).replace('@c.us', '@lid') } }),
    getMessageById: async () => null,
    forwardMessage: async () => true,
  };
  for (const name of ['sendTextMessage', 'sendFileMessage', 'sendLocationMessage', 'sendVCardContactMessage',
                      'sendCreatePollMessage']) {
    chat[name] = async (...args) => {
      window.__calls.push({ name, options: Object.keys(args[args.length - 1] || {}) });
      return result();
    };
  }
  const me = { _serialized: '100000000000001@lid' };
  window.WPP = { chat, conn: { getMyUserLid: () => me, getMyUserId: () => me } };
}"""
_MEDIA = {"base64": "AAAA", "mimetype": "image/png", "filename": "dot.png"}
# One content of each kind the API sends, with every optional part set.
_CONTENTS = [
    {"kind": "text", "text": "hi", "linkPreview": True, "quotedMessageId": "x", "mentions": ["1@c.us"]},
    {"kind": "image", "media": _MEDIA, "caption": "a dot"},
    {"kind": "ptt", "media": {**_MEDIA, "mimetype": "audio/ogg"}},
    {"kind": "document", "media": {**_MEDIA, "mimetype": "application/pdf"}},
    {"kind": "location", "location": {"latitude": 1.0, "longitude": 2.0, "description": "d", "address": "a"}},
    {"kind": "contact", "contact": {"number": "15550000003", "name": "Carol"}},
    {"kind": "poll", "poll": {"name": "q", "options": ["a", "b"], "selectableCount": 1}},
]


@pytest.fixture(scope="module")
def types() -> Types:
    return read_types(ensure_installed())


@pytest.fixture(scope="module")
def recorded(browser: Browser) -> dict[str, object]:
    """What the engine's send did against the recording WPP, over every kind of content."""
    page = browser.new_page()
    try:
        page.evaluate(_RECORDING_WPP)
        for content in _CONTENTS:
            for chat in ("15550000002@c.us", "120363000000000001@g.us"):
                page.evaluate(_SEND_MESSAGE, [chat, content, f"true_{chat}_3EB0AA", False])
        found: dict[str, object] = page.evaluate("() => ({ calls: window.__calls, reads: window.__reads })")
        return found
    finally:
        page.close()


def undeclared_options(calls: list[dict[str, object]], types: Types) -> list[str]:
    """`fn: option` for every option the engine passed that the function's declared options type lacks."""
    dist = ensure_installed()
    problems = []
    for call in calls:
        name = str(call["name"])
        declared = types.fields(options_type(dist, "chat", name))
        options = call["options"]
        assert isinstance(options, list)
        problems += [f"WPP.chat.{name}: {option}" for option in options if option not in declared]
    return sorted(set(problems))


def test_every_option_the_engine_sends_with_is_declared_by_wa_js(
    recorded: dict[str, object], types: Types
) -> None:
    calls = recorded["calls"]
    assert isinstance(calls, list)
    assert {call["name"] for call in calls} == {
        "sendTextMessage",
        "sendFileMessage",
        "sendLocationMessage",
        "sendVCardContactMessage",
        "sendCreatePollMessage",
    }
    assert all("messageId" in call["options"] for call in calls)
    assert undeclared_options(calls, types) == []


def test_the_option_check_names_an_option_wa_js_does_not_declare(types: Types) -> None:
    calls: list[dict[str, object]] = [
        {"name": "sendTextMessage", "options": ["createChat", "messageId", "quotedMsgId"]},
        {"name": "sendFileMessage", "options": ["caption", "isPtt", "ptt"]},
    ]
    assert undeclared_options(calls, types) == [
        "WPP.chat.sendFileMessage: ptt",
        "WPP.chat.sendTextMessage: quotedMsgId",
    ]


def test_every_result_field_the_engine_reads_is_declared_by_wa_js(
    recorded: dict[str, object], types: Types
) -> None:
    reads = recorded["reads"]
    assert isinstance(reads, list)
    declared = types.fields("SendMessageReturn") | {
        f"sendMsgResult.{field}" for field in types.fields("SendMsgResultObject")
    }
    assert {"id", "ack", "sendMsgResult", "sendMsgResult.messageSendResult"} <= set(reads)
    assert set(reads) - declared == set()
    assert "errorCode" not in types.fields("SendMsgResultObject")  # what the engine once read
