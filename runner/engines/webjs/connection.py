"""What WhatsApp Web's connection events mean for the session's status (pure; the engine acts on it).

wa-js's own signals are not statuses (`reference/wa-js-behaviour.md` rows 2, 5, 8, 10, 11):
- `conn.main_ready` fires on the QR screen too (stream mode QR counts, wa-js #3339/#3417) and
  `isMainReady()` then stays true, so *ready* is: registered (linked: `isRegistered()`, or
  `conn.authenticated` seen) **and** stream mode MAIN;
- a restored session never fires `conn.authenticated`: *authenticating* is derived from `isRegistered()`;
- `conn.require_auth` or a navigation to `?post_logout=1` after the session was linked is a logout;
- stream modes TOS_BLOCK / SMB_TOS_BLOCK are a ban: a restriction, not a connection problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from functions.core.enums import SessionStatus

MAIN, QR = "MAIN", "QR"
# StreamMode values (wa-js dist/whatsapp/enums/StreamMode.d.ts) that mean WhatsApp banned the account.
BANNED_MODES = {"TOS_BLOCK": "tos_block", "SMB_TOS_BLOCK": "smb_tos_block"}
LOGGED_OUT_REASON = "logged out from the phone"  # the reporter's reason for a logout (runner.reporter)
# WhatsApp Web draws its QR as a wa.me link around wa-js's `fullCode`, with the companion platform after it
# (1: a web client), so that a phone's camera app opens WhatsApp's "Link a device"; the bare code only
# scans from inside WhatsApp (WAHA #1951); WhatsApp Web's bundle (WAWebLinkDeviceQrcode) has this prefix.
QR_LINK_PREFIX = "https://wa.me/settings/linked_devices#"
WEB_COMPANION_PLATFORM = "1"


def qr_payload(full_code: str) -> str:
    """What the session's QR holds: WhatsApp Web's image form of wa-js's `fullCode`."""
    return f"{QR_LINK_PREFIX}{full_code},{WEB_COMPANION_PLATFORM}"


def is_post_logout(url: str) -> bool:
    """Whether `url` is the page WhatsApp Web navigates to after a logout (`/?post_logout=1`)."""
    return parse_qs(urlsplit(url).query).get("post_logout") == ["1"]


@dataclass
class Decision:
    """What to do after a connection event: report `status` (with `qr`/`reason`), announce a ban."""

    status: SessionStatus | None = None
    qr: str | None = None
    reason: str | None = None
    logged_out: bool = False
    banned: str | None = None  # OpenWA restriction kind


@dataclass
class Connection:
    """The page's connection as the engine last knew it."""

    registered: bool = False
    stream_mode: str | None = None
    online: bool = True
    linked_once: bool = False  # ready at least once in this process: a later require_auth is a logout

    def state(self, state: dict[str, Any]) -> Decision:
        """`owa.state`: what the bridge found once wa-js was ready (after every page load)."""
        self.registered = bool(state.get("registered") or state.get("authenticated"))
        self.stream_mode = state.get("streamMode") or self.stream_mode
        self.online = bool(state.get("online", True))
        if self.linked_once and is_post_logout(str(state.get("url") or "")):
            return self._logged_out()
        if self.ready():
            return Decision(SessionStatus.READY)
        if state.get("qr") and not self.registered:
            return Decision(SessionStatus.QR_READY, qr=qr_payload(str(state["qr"])))
        if self.registered:
            return Decision(SessionStatus.AUTHENTICATING)
        return Decision()

    def stream_mode_changed(self, mode: str) -> Decision:
        self.stream_mode = mode
        if mode in BANNED_MODES:
            return Decision(banned=BANNED_MODES[mode])
        return Decision(SessionStatus.READY) if self.ready() else Decision()

    def authenticated(self) -> Decision:
        self.registered = True
        return Decision(SessionStatus.READY) if self.ready() else Decision(SessionStatus.AUTHENTICATING)

    def auth_code(self, code: dict[str, Any] | None) -> Decision:
        if code and code.get("fullCode") and not self.registered:
            return Decision(SessionStatus.QR_READY, qr=qr_payload(str(code["fullCode"])))
        return Decision()

    def require_auth(self) -> Decision:
        """The page wants a QR: after the session was linked, the phone (or WhatsApp) logged it out."""
        return self._logged_out() if self.linked_once else Decision()

    def navigated(self, url: str) -> Decision:
        return self._logged_out() if self.linked_once and is_post_logout(url) else Decision()

    def logout(self) -> Decision:
        """conn.logout: once per link (the post-logout page that follows is the same logout)."""
        return self._logged_out() if self.registered or self.linked_once else Decision()

    def became_ready(self) -> None:
        self.linked_once = True

    def ready(self) -> bool:
        return self.registered and self.stream_mode == MAIN

    def _logged_out(self) -> Decision:
        self.registered, self.linked_once = False, False
        return Decision(SessionStatus.DISCONNECTED, reason=LOGGED_OUT_REASON, logged_out=True)
