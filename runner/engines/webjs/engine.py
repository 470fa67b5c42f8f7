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

from playwright.async_api import BrowserContext, Frame, Page, Playwright, Response, async_playwright
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
from runner.engines.webjs.lids import LidBook
from runner.engines.webjs.versions import PinnedPage

log = logging.getLogger(__name__)

WA_JS_PATH = Path(__file__).resolve().parents[2] / "node_modules/@wppconnect/wa-js/dist/wppconnect-wa.js"


def _page_function(name: str) -> str:
    """A function for `page.evaluate` kept in `calls/<name>.js` (its leading `//` comment lines dropped)."""
    lines = (Path(__file__).parent / "calls" / f"{name}.js").read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("//"))


_SEND_MESSAGE = _page_function("send_message")
_DOWNLOAD_MEDIA = _page_function("download_media")
# wa-js SendMsgResult (dist/whatsapp/enums/SendMsgResult.d.ts): anything but OK is a failed send.
SEND_OK = "OK"

_WHO_AM_I = (
    "() => ({ wid: String(WPP.conn.getMyUserId() || ''), name: WPP.profile.getMyProfileName() || null })"
)


@dataclass(frozen=True)
class WebJsOptions:
    """Where the page is, what makes its `window.WPP` (wa-js, or the sandbox's double), how to launch, and
    the recorded page to serve for `url` (`versions.py`; None: the page the server sends)."""

    url: str
    wpp_scripts: Sequence[Path]
    browser: BrowserOptions
    load_timeout_seconds: float = 60.0
    pinned: PinnedPage | None = None


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
        self._stopping = False  # stop() closes the browser on purpose: its close is no loss
        self._pairing_code: str | None = None  # the current one while a pairing-code link is pending
        self._lids = LidBook(self._call)
        self._capabilities = WebJsCapabilities(self._call, self._lids)

    async def start(self, auth_state: Mapping[str, bytes] | None) -> None:
        self._pump = asyncio.create_task(self._handle_events())
        if auth_state:
            await asyncio.to_thread(profile.restore, self._home.profile, auth_state)
        self._playwright = await async_playwright().start()
        self._context = await launch(self._playwright, self._options.browser, self._home)
        await self._context.expose_binding("__owaEvent", self._on_binding)
        await page_setup.prepare(self._context, self._options.wpp_scripts)
        if self._options.pinned is not None:
            html = await asyncio.to_thread(self._options.pinned.path.read_text, "utf-8")
            await page_setup.pin_page(self._context, self._options.url, html)
        self._page = self._context.pages[0] if self._context.pages else await self._context.new_page()
        self._page.on("framenavigated", self._on_navigated)
        # A renderer crash, a closed page or a browser that exits leave nothing to drive: the session is
        # started again (from its stored credentials) rather than left "ready" on a dead page.
        self._page.on("crash", lambda _: self._lost("the WhatsApp Web page crashed"))
        self._page.on("close", lambda _: self._lost("the WhatsApp Web page was closed"))
        self._context.on("close", lambda _: self._lost("the browser exited"))
        await self._open()

    async def _open(self) -> None:
        page, timeout_ms = self._require_page(), self._options.load_timeout_seconds * 1000
        statuses: list[int] = []  # of the page's own loads: a proxy's 407 shows only here

        def record(response: Response) -> None:
            if response.frame == page.main_frame:
                statuses.append(response.status)

        page.on("response", record)
        try:
            await page.goto(self._options.url, wait_until="domcontentloaded", timeout=timeout_ms)
            await page.wait_for_function("() => window.__owaAttached === true", timeout=timeout_ms)
        except PlaywrightError as exc:
            reason = exc.message.splitlines()[0] if exc.message else type(exc).__name__
            raise EngineUnreachable(self._load_failure(reason, statuses)) from exc
        finally:
            page.remove_listener("response", record)

    def _load_failure(self, reason: str, statuses: list[int]) -> str:
        """Why the page did not load, naming the proxy it went through (a session's `lastError`)."""
        proxy = self._options.browser.proxy
        if proxy is None:
            return f"WhatsApp Web at {self._options.url} could not be loaded: {reason}"
        if 407 in statuses:  # Chromium reports only ERR_HTTP_RESPONSE_CODE_FAILURE for it
            reason = f"the proxy refused the credentials (407 Proxy Authentication Required); {reason}"
        where = f"WhatsApp Web at {self._options.url}"
        return f"{where} could not be loaded through the proxy {proxy.server}: {reason}"

    async def stop(self) -> None:
        self._stopping = True
        if self._pump is not None:
            self._pump.cancel()
        if self._context is not None:
            with contextlib.suppress(PlaywrightError):
                await self._context.close()
        if self._playwright is not None:
            with contextlib.suppress(PlaywrightError):
                await self._playwright.stop()

    async def discard(self) -> None:
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
        """A pairing code through wa-js's lifecycle (`startLinkDeviceCodeForPhoneNumber`): a code expires
        after about 3.25 min, and wa-js replaces it before then (`conn.link_code_change`, kept as the current
        code) up to five times, then says `conn.link_code_expired` (a new request starts again)."""
        code = await self._call(
            "async (phone) => await WPP.conn.startLinkDeviceCodeForPhoneNumber(phone, true)", phone_number
        )
        self._pairing_code = str(code)
        return self._pairing_code

    async def send_text(
        self, chat_id: str, text: str, message_id: str | None = None, *, first_attempt: bool = False
    ) -> SentMessage:
        content = {"kind": "text", "text": text}
        return await self.send_message(chat_id, content, message_id, first_attempt=first_attempt)

    async def send_message(
        self,
        chat_id: str,
        content: Mapping[str, Any],
        message_id: str | None = None,
        *,
        first_attempt: bool = False,
    ) -> SentMessage:
        """Send with our pre-assigned id (`calls/send_message.js` makes it the full key wa-js wants). The
        returned id is WhatsApp's own serialized key (its remote may be the chat's `@lid`, a group's carries
        our participant). A send whose `sendMsgResult.messageSendResult` is not OK, or whose ack is below 0,
        failed: EngineError (a ban comes separately, as stream mode TOS_BLOCK: `connection.py`)."""
        result = await self._call(_SEND_MESSAGE, [chat_id, dict(content), message_id, first_attempt])
        outcome, ack = result.get("sendResult"), int(result["ack"])
        if (outcome is not None and outcome != SEND_OK) or ack < 0:
            raise EngineError(f"WhatsApp did not send the message ({outcome or 'ack ' + str(ack)})")
        sent_id = str(result["id"]) if result["id"] else ""
        return SentMessage(id=sent_id, ack=ack, existed=bool(result.get("existed")))

    async def download_media(self, message_id: str) -> MediaBlob:
        result = await self._call(_DOWNLOAD_MEDIA, message_id)
        return MediaBlob(base64.b64decode(result["base64"]), result.get("mimetype"))

    async def capability(self, name: str, *args: Any) -> Any:
        """Message actions, chats, contacts and live history (`capabilities.py`, names in `Capability`)."""
        return await self._capabilities.run(name, *args)

    async def snapshot(self) -> dict[str, bytes]:
        """The profile files that hold the login (`profile.archive`): read while the browser runs, or at rest
        after `stop` (then everything Chromium buffers, localStorage included, is on disk)."""
        if self._context is None:
            raise EngineError("the browser was never started")
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

    def _lost(self, reason: str) -> None:
        if not self._stopping:
            self._inbox.put_nowait(("owa.lost", reason))

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
        elif name == "owa.lost":
            await self._engine_lost(str(payload))
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
        elif name == "conn.needs_update":
            reason = "WhatsApp Web requires a newer version: update @wppconnect/wa-js and wa-version"
            await self._report(StatusChange(SessionStatus.ACTION_REQUIRED, reason=reason))
        elif name == "conn.qrcode_idle":
            await self._refresh_idle_qr()
        elif name == "conn.link_code_change":
            self._pairing_code = str(payload) if payload else None
        elif name == "conn.link_code_expired":
            self._pairing_code = None
            log.info("the pairing code expired; a new one must be requested")
        elif not name.startswith("conn."):
            phones = await self._lids.phones_in(payload)  # most 1:1 chats are @lid (lids.py)
            for event, data in message_events(name, payload, phones):
                self._capabilities.observe(event, data)
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

    async def _engine_lost(self, reason: str) -> None:
        if self._stopping:
            return
        self._stopping = True  # one report: the page's close and the browser's exit come together
        await self._report(StatusChange(SessionStatus.DISCONNECTED, reason=reason))
        await self._listener.on_engine_lost(reason)

    async def _refresh_idle_qr(self) -> None:
        """WhatsApp Web stopped rotating its QR ("Click to reload QR code"): ask for a new one, as a person
        would click (whatsapp-web.js does the same on UNPAIRED_IDLE); it arrives as conn.auth_code_change."""
        if self._connection.registered:
            return
        try:
            await self._call("async () => { await WPP.conn.refreshQR(); }")
        except EngineError as exc:
            log.warning("the idle QR could not be refreshed: %s", exc)

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
