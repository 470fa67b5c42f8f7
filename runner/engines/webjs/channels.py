"""The webjs engine's WhatsApp Channel capabilities (`Capability.CHANNEL*`), over wa-js's `WPP.newsletter.*`
and the chat store's newsletters (page function `calls/channels.js`).

wa-js's codes become ours (`capabilities.translate`): `channel_not_found` (the page function's, for a channel
the account neither follows nor owns), `not_a_newsletter` and `invalid_newsletter_id` → CHANNEL_NOT_FOUND
(404), `channel_invite_invalid` → CHANNEL_INVITE_INVALID (404), `not_channel_owner` (destroy answered false)
→ ENGINE_REFUSED (403). wa-js (pinned 4.6.0) can neither demote a channel admin nor transfer ownership:
those are 501 ENGINE_NOT_SUPPORTED with upstream's message for its whatsapp-web.js engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from functions.core.chats import Capability
from runner.engines.base import NotSupportedByEngine

Guarded = Callable[[str, Any], Awaitable[Any]]


def unsupported(method: str) -> NotSupportedByEngine:
    """Upstream's EngineNotSupportedError for `method` (its message, verbatim)."""
    return NotSupportedByEngine(f"Operation not supported by the active engine: {method}")


class WebJsChannels:
    """The channel capabilities by name; `guarded` runs a page function."""

    def __init__(self, guarded: Guarded, page_function: Callable[[str], str]) -> None:
        self._guarded = guarded
        self._script = page_function("channels")

    def table(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        return {
            Capability.CHANNELS: lambda: self._run("list"),
            Capability.CHANNEL: lambda channel: self._run("get", id=channel),
            Capability.CHANNEL_MESSAGES: lambda channel, count: self._run(
                "messages", id=channel, count=count
            ),
            Capability.CHANNEL_CREATE: lambda name, text: self._run("create", name=name, description=text),
            Capability.CHANNEL_DELETE: lambda channel: self._run("delete", id=channel),
            Capability.CHANNEL_MUTE: lambda channel, mute: self._run("mute", id=channel, mute=mute),
            Capability.CHANNEL_SUBSCRIBE: lambda code: self._run("subscribe", code=code),
            Capability.CHANNEL_UNSUBSCRIBE: lambda channel: self._run("unsubscribe", id=channel),
            Capability.CHANNEL_DEMOTE: self.demote_admin,
            Capability.CHANNEL_TRANSFER: self.transfer,
        }

    async def _run(self, action: str, **args: Any) -> Any:
        return await self._guarded(self._script, [action, args])

    async def demote_admin(self, channel_id: str, user_id: str) -> bool:
        raise unsupported("demoteChannelAdmin")

    async def transfer(self, channel_id: str, new_owner: str) -> bool:
        raise unsupported("transferChannelOwnership")
