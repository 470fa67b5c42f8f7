"""The `webjs` engine: WhatsApp Web in Chromium (Playwright async API), driven through wa-js's `window.WPP`.

Injection: wa-js (npm `@wppconnect/wa-js`, pinned in `runner/package.json`) goes in as context init scripts
(`page_setup.py`), after `window.WPPConfig` and before the bridge: init scripts are not subject to the page's
CSP (WhatsApp Web forbids inline scripts, so `add_script_tag` fails there, wppconnect #2109) and run again
after every navigation (WhatsApp Web reloads after linking, after a logout and on updates). On the sandbox
the same path injects the sandbox's WPP double instead of wa-js (`WebJsOptions.wpp_scripts`): that file is
the only difference between the two engine types.

Calls go through `page.evaluate` on `WPP.*`; events come back through one binding (`__owaEvent`) installed
by `bridge.js`. Events are queued by the binding and handled by one task, in the order the page sent them,
so a status can never be overtaken by an older one. What connection events mean for the status is decided
in `connection.py`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Frame, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from functions.core.enums import SessionStatus
from runner.engines.base import (
    Engine,
    EngineError,
    EngineListener,
    EngineUnreachable,
    MediaBlob,
    SentMessage,
    StatusChange,
)
from runner.engines.webjs import page_setup, profile
from runner.engines.webjs.browser import BrowserOptions, ScratchHome, launch
from runner.engines.webjs.capabilities import WebJsCapabilities
from runner.engines.webjs.connection import Connection, Decision
from runner.engines.webjs.events import message_events

log = logging.getLogger(__name__)

WA_JS_PATH = Path(__file__).resolve().parents[2] / "node_modules/@wppconnect/wa-js/dist/wppconnect-wa.js"

_SEND_TEXT = """async ([chat, text, id, firstAttempt]) => {
  if (id && !firstAttempt) {
    const full = id.includes('_') ? id : 'true_' + chat + '_' + id;
    try {
      const found = await WPP.chat.getMessageById(full);
      if (found) return { id: String(found.id._serialized || found.id), ack: found.ack || 0, existed: true };
    } catch (error) { /* not sent yet */ }
  }
  const options = { createChat: true };
  if (id) options.messageId = id.includes('_') ? id.split('_').pop() : id;
  const sent = await WPP.chat.sendTextMessage(chat, text, options);
  const result = sent.sendMsgResult || {};
  return { id: String(sent.id), ack: sent.ack || 0, existed: false, errorCode: result.errorCode || null };
}"""
# One send of any kind with our pre-assigned id (wa-js SendMessageOptions.messageId). A message that already
# exists under that id is not sent again (a re-delivered job); forwards cannot carry an id (wa-js
# forwardMessage has no messageId option), so their result has no id.


def _page_function(name: str) -> str:
    """A function for `page.evaluate` kept in `calls/<name>.js` (its leading `//` comment lines dropped)."""
    lines = (Path(__file__).parent / "calls" / f"{name}.js").read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("//"))


_SEND_MESSAGE = _page_function("send_message")
_DOWNLOAD_MEDIA = _page_function("download_media")
# WhatsApp's send error codes that mean the account is restricted (OpenWA's `restriction.kind`).
RESTRICTION_KINDS = {463: "reachout_timelock", 475: "tos_block"}

_WHO_AM_I = (
    "() => ({ wid: String(WPP.conn.getMyUserId() || ''), name: WPP.profile.getMyProfileName() || null })"
)


@dataclass(frozen=True)
class WebJsOptions:
    """Where the page is, what makes its `window.WPP` (wa-js, or the sandbox's double), how to launch."""

    url: str
    wpp_scripts: Sequence[Path]
    browser: BrowserOptions
    load_timeout_seconds: float = 60.0


# How long a logout waits for WhatsApp Web to confirm (conn.logout, or the post-logout page) before the
# device is treated as logged out anyway: `WPP.conn.logout()` may never return while the page navigates.
LOGOUT_CONFIRM_SECONDS = 10.0


class WebJsEngine(Engine):
    """One session in one persistent-profile Chromium (one context, one page)."""

    name = "webjs"

    def __init__(self, options: WebJsOptions, listener: EngineListener) -> None:
        self._options = options
        self._listener = listener
        self._home = ScratchHome()
        self._playwright: Playwright | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._status: SessionStatus | None = None
        self._qr: str | None = None
        self._connection = Connection()
        self._logged_out = asyncio.Event()
        self._capabilities = WebJsCapabilities(self._call)

    async def start(self, auth_state: Mapping[str, bytes] | None) -> None:
        self._pump = asyncio.create_task(self._handle_events())
        if auth_state:
            await asyncio.to_thread(profile.restore, self._home.profile, auth_state)
        self._playwright = await async_playwright().start()
        self._context = await launch(self._playwright, self._options.browser, self._home)
        await self._context.expose_binding("__owaEvent", self._on_binding)
        await page_setup.prepare(self._context, self._options.wpp_scripts)
        self._page = self._context.pages[0] if self._context.pages else await self._context.new_page()
        self._page.on("framenavigated", self._on_navigated)
        await self._open()

    async def _open(self) -> None:
        page, timeout_ms = self._require_page(), self._options.load_timeout_seconds * 1000
        try:
            await page.goto(self._options.url, wait_until="domcontentloaded", timeout=timeout_ms)
            await page.wait_for_function("() => window.__owaAttached === true", timeout=timeout_ms)
        except PlaywrightError as exc:
            reason = exc.message.splitlines()[0] if exc.message else type(exc).__name__
            url = self._options.url
            raise EngineUnreachable(f"WhatsApp Web at {url} could not be loaded: {reason}") from exc

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        if self._context is not None:
            with contextlib.suppress(PlaywrightError):
                await self._context.close()
        if self._playwright is not None:
            with contextlib.suppress(PlaywrightError):
                await self._playwright.stop()
        self._home.cleanup()

    async def reconnect(self) -> None:
        """Reload the page (as a person would); the bridge re-attaches and reports the state it finds."""
        await self._open()

    async def logout(self) -> None:
        """Unlink the device. Done once WhatsApp Web confirms (conn.logout, or it navigated to its
        post-logout page), or after LOGOUT_CONFIRM_SECONDS: the call itself may never return, and the
        caller wipes the credentials whatever happens here."""
        self._logged_out.clear()
        call = asyncio.ensure_future(self._call("async () => { await WPP.conn.logout(); return true; }"))
        confirmed = asyncio.ensure_future(self._logged_out.wait())
        done, _ = await asyncio.wait(
            {call, confirmed}, timeout=LOGOUT_CONFIRM_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        for task in (call, confirmed):
            if task not in done:
                task.cancel()
        if call in done and not confirmed.done() and call.exception() is not None:
            log.info("logout: the page went away mid-call (%s); treated as logged out", call.exception())

    async def qr(self) -> str | None:
        return self._qr if self._status is SessionStatus.QR_READY else None

    async def request_pairing_code(self, phone_number: str) -> str:
        code = await self._call(
            "async (phone) => await WPP.conn.genLinkDeviceCodeForPhoneNumber(phone, true)", phone_number
        )
        return str(code)

    async def send_text(
        self, chat_id: str, text: str, message_id: str | None = None, *, first_attempt: bool = False
    ) -> SentMessage:
        result = await self._call(_SEND_TEXT, [chat_id, text, message_id, first_attempt])
        code = result.get("errorCode")
        if code is not None:
            await self._refused(int(code))
        return SentMessage(id=str(result["id"]), ack=int(result["ack"]), existed=bool(result.get("existed")))

    async def send_message(
        self,
        chat_id: str,
        content: Mapping[str, Any],
        message_id: str | None = None,
        *,
        first_attempt: bool = False,
    ) -> SentMessage:
        result = await self._call(_SEND_MESSAGE, [chat_id, dict(content), message_id, first_attempt])
        code = result.get("errorCode")
        if code is not None:
            await self._refused(int(code))
        message_id = str(result["id"]) if result["id"] else ""
        return SentMessage(id=message_id, ack=int(result["ack"]), existed=bool(result.get("existed")))

    async def download_media(self, message_id: str) -> MediaBlob:
        result = await self._call(_DOWNLOAD_MEDIA, message_id)
        return MediaBlob(base64.b64decode(result["base64"]), result.get("mimetype"))

    async def capability(self, name: str, *args: Any) -> Any:
        """Message actions, chats, contacts and live history (`capabilities.py`, names in `Capability`)."""
        return await self._capabilities.run(name, *args)

    async def _refused(self, code: int) -> None:
        """WhatsApp refused a send: report a restriction when the code means one, then fail the send."""
        if code in RESTRICTION_KINDS:
            restriction = {"active": True, "kind": RESTRICTION_KINDS[code], "code": code, "expiresAt": None}
            await self._listener.on_event("session.restriction", restriction)
        raise EngineError(f"WhatsApp refused the message (error {code})")

    async def snapshot(self) -> dict[str, bytes]:
        """The profile files that hold the login (`profile.archive`), read while the browser runs."""
        if self._context is None:
            raise EngineError("the browser is not running")
        return await asyncio.to_thread(profile.archive, self._home.profile)

    async def _call(self, script: str, arg: Any = None) -> Any:
        """Evaluate `script` in the page; a page-side error becomes EngineError with its message."""
        try:
            return await self._require_page().evaluate(script, arg)
        except PlaywrightError as exc:
            raise EngineError(exc.message.splitlines()[0] if exc.message else str(exc)) from exc

    def _require_page(self) -> Page:
        if self._page is None:
            raise EngineError("the browser is not running")
        return self._page

    def _on_binding(self, source: Any, name: str, payload: Any) -> None:
        # Only queue here: the binding must return at once, and one consumer keeps the page's order.
        self._inbox.put_nowait((name, payload))

    def _on_navigated(self, frame: Frame) -> None:
        if self._page is not None and frame == self._page.main_frame:
            self._inbox.put_nowait(("owa.navigated", frame.url))

    async def _handle_events(self) -> None:
        while True:
            name, payload = await self._inbox.get()
            try:
                await self._handle(name, payload)
            except Exception:  # one bad event must not stop the session's event flow
                log.exception("engine event %s failed", name)

    async def _handle(self, name: str, payload: Any) -> None:
        connection = self._connection
        if name == "owa.state":
            await self._decided(connection.state(payload or {}))
            await self._keep_alive()
        elif name == "owa.navigated":
            await self._decided(connection.navigated(str(payload)))
        elif name == "conn.stream_mode_changed":
            await self._decided(connection.stream_mode_changed(str(payload)))
        elif name == "conn.auth_code_change":
            await self._decided(connection.auth_code(payload if isinstance(payload, dict) else None))
        elif name == "conn.authenticated":
            await self._decided(connection.authenticated())
        elif name == "conn.require_auth":
            await self._decided(connection.require_auth())
        elif name == "conn.logout":
            await self._decided(connection.logout())
        elif name == "conn.online":
            await self._online(bool(payload))
        elif not name.startswith("conn."):
            for event, data in message_events(name, payload):
                await self._listener.on_event(event, data)

    async def _decided(self, decision: Decision) -> None:
        if decision.banned is not None:
            restriction = {"active": True, "kind": decision.banned, "code": None, "expiresAt": None}
            await self._listener.on_event("session.restriction", restriction)
        if decision.logged_out:
            self._logged_out.set()
        if decision.status is SessionStatus.READY:
            await self._ready()
        elif decision.status is not None:
            await self._report(StatusChange(decision.status, qr=decision.qr, reason=decision.reason))
            if decision.logged_out:
                await self._listener.on_credentials_changed()

    async def _keep_alive(self) -> None:
        # WhatsApp Web drops to "phone not connected" in a background tab; wppconnect keeps it alive.
        with contextlib.suppress(EngineError):
            await self._call("() => WPP.conn.setKeepAlive(true)")

    async def _ready(self) -> None:
        me = await self._call(_WHO_AM_I)
        phone = str(me["wid"]).split("@", 1)[0].split(":", 1)[0] or None
        self._connection.became_ready()
        await self._report(StatusChange(SessionStatus.READY, phone=phone, push_name=me["name"]))

    async def _online(self, online: bool) -> None:
        # WhatsApp Web reconnects its socket by itself: report it, never reload the page for it.
        self._connection.online = online
        if not online and self._status is SessionStatus.READY:
            await self._report(StatusChange(SessionStatus.DISCONNECTED, reason="connection lost"))
        elif online and self._status is SessionStatus.DISCONNECTED and self._connection.ready():
            await self._ready()

    async def _report(self, change: StatusChange) -> None:
        if change.status is self._status and change.qr == self._qr:
            return
        became_ready = change.status is SessionStatus.READY and self._status is not SessionStatus.READY
        self._status, self._qr = change.status, change.qr
        await self._listener.on_status(change)
        if became_ready:
            await self._listener.on_credentials_changed()
