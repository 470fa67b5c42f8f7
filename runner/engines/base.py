"""The engine contract: what a session process needs from "something that holds a WhatsApp session".

Engines are asyncio objects owned by one session process (one engine per process). They speak our
vocabulary only: `SessionStatus` values and OpenWA event names (`session.qr`, `message.received`, ...);
native names (wa-js events, WPP functions) stay inside the engine package.

Required core: `start`, `stop`, `logout`, `qr`, `request_pairing_code`, `send_text`, `snapshot`, and the
`EngineListener` events. Anything else is an optional capability: the base implementation raises
`NotSupportedByEngine`, which the API maps to 501 `ENGINE_NOT_SUPPORTED` (OpenWA's EngineNotSupportedError).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import segno

from functions.core.enums import SessionStatus
from functions.core.errors import EngineNotSupported

# An engine's credentials: files (relative posix path -> bytes) that bring a session back linked; for `webjs`,
# the browser profile's login files (`runner.engines.webjs.profile`).
AuthFiles = dict[str, bytes]


class NotSupportedByEngine(EngineNotSupported):
    """An optional capability the active engine lacks (HTTP 501, code ENGINE_NOT_SUPPORTED)."""


class EngineError(Exception):
    """The engine could not do what was asked; the message is safe to show as `lastError`."""


class EngineUnreachable(EngineError):
    """The WhatsApp Web page (or the sandbox) could not be loaded."""


@dataclass(frozen=True)
class StatusChange:
    """A status the engine moved to, with what it learnt on the way (only the fields it knows)."""

    status: SessionStatus
    qr: str | None = None
    phone: str | None = None
    push_name: str | None = None
    reason: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class EngineListener(Protocol):
    """Where an engine reports. Called on the engine's event loop; must not block it for long."""

    async def on_status(self, change: StatusChange) -> None:
        """The session's status changed (qr_ready with `qr`, ready with `phone`/`push_name`, ...)."""

    async def on_event(self, name: str, data: dict[str, Any]) -> None:
        """Any other OpenWA event (`message.received`, `message.ack`, `session.restriction`, ...)."""

    async def on_credentials_changed(self) -> None:
        """The device was linked (a snapshot is worth taking now) or unlinked (stored auth is stale)."""

    async def on_engine_lost(self, reason: str) -> None:
        """The engine can no longer serve the session (the page crashed or closed, the browser died): the
        session must be started again, from its stored credentials."""


@dataclass(frozen=True)
class SentMessage:
    """What a send returns: WhatsApp's message id, the ack level at return (0 pending, 1 sent), and whether
    the message already existed (a re-run of a send that had gone out: nothing was sent this time)."""

    id: str
    ack: int
    existed: bool = False


@dataclass(frozen=True)
class MediaBlob:
    """A message's media as downloaded from WhatsApp."""

    data: bytes
    mimetype: str | None


def qr_png_data_url(raw: str) -> str:
    """The QR string as a PNG data URL, the shape OpenWA's `GET /qr` and `session.qr` carry."""
    return str(segno.make(raw, error="l").png_data_uri(scale=6, border=2))


class Engine(ABC):
    """One WhatsApp session's connection. Methods are coroutines run on the session process's loop."""

    name: str = "base"

    @abstractmethod
    async def start(self, auth_state: Mapping[str, bytes] | None) -> None:
        """Open the session, restoring `auth_state` (a `snapshot`, from this or any other machine) when given.

        None, or credentials that no longer hold a login, mean a fresh device: the page shows a QR. The map
        is only read. Returns once the page is up (status `qr_ready` or on its way to `ready`, reported to the
        listener). Raises EngineUnreachable when WhatsApp Web cannot be loaded within the init deadline.
        """

    @abstractmethod
    async def stop(self) -> None:
        """Close the browser; credentials stay where they are (a later `start` with a snapshot restores).
        `snapshot` still works after `stop` (it then reads files at rest), until `discard`."""

    async def discard(self) -> None:  # noqa: B027 - optional: only engines with local files override it
        """Remove what the engine kept on local disk (after `stop`); engines keeping nothing inherit this."""

    @abstractmethod
    async def logout(self) -> None:
        """Unlink this device from the phone. The caller wipes stored credentials."""

    @abstractmethod
    async def qr(self) -> str | None:
        """The current raw QR string, or None when no QR is showing."""

    @abstractmethod
    async def request_pairing_code(self, phone_number: str) -> str:
        """An 8-character code for linking by phone number instead of QR."""

    @abstractmethod
    async def send_text(
        self, chat_id: str, text: str, message_id: str | None = None, *, first_attempt: bool = False
    ) -> SentMessage:
        """Send a text. With `message_id`, it is used as the id, and a message that already exists under
        it is not sent again (so a re-delivered job sends once). `first_attempt` says no earlier attempt
        can have handed this id over, so the engine may skip looking for it."""

    async def send_message(
        self,
        chat_id: str,
        content: Mapping[str, Any],
        message_id: str | None = None,
        *,
        first_attempt: bool = False,
    ) -> SentMessage:
        """Send any kind of message. `content` is the stored outbound content (`kind`: text, image, video,
        audio, ptt, document, sticker, location, contact, poll, forward; media as `media.base64`), with the
        same id contract as `send_text`. Engines that only send text inherit this."""
        if (
            content.get("kind") == "text"
            and not content.get("quotedMessageId")
            and not content.get("mentions")
        ):
            return await self.send_text(
                chat_id, str(content["text"]), message_id, first_attempt=first_attempt
            )
        raise NotSupportedByEngine(
            f"sending {content.get('kind')} is not supported by the {self.name} engine"
        )

    async def download_media(self, message_id: str) -> MediaBlob:
        """The media bytes of a received message (optional capability)."""
        raise NotSupportedByEngine(f"media download is not supported by the {self.name} engine")

    @abstractmethod
    async def snapshot(self) -> AuthFiles:
        """The credentials as files, for `start(auth_state=...)` on any machine; callable while running.

        Paths are relative posix paths (not absolute, no `..`). The caller stores the map encrypted, one
        object per distinct content, so a snapshot in which few files changed costs few uploads. Raises
        EngineError when there is no running session to take them from."""

    async def reconnect(self) -> None:
        """Re-establish a dropped link (the reconnect policy calls this); engines that cannot, say so."""
        raise NotSupportedByEngine(f"reconnect is not supported by the {self.name} engine")

    async def capability(self, name: str, *args: Any) -> Any:
        """An optional capability by name; engines override what they support."""
        raise NotSupportedByEngine(f"{name} is not supported by the {self.name} engine")
