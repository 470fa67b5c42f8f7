"""The webjs engine's presence capabilities (`Capability.PRESENCE_*`), over wa-js's `WPP.conn.markAvailable`
/ `markUnavailable` and `WPP.contact.subscribePresence`, and the last presence reported per chat.

WhatsApp Web cannot be asked for a chat's presence, only told (wa-js `chat.presence_change`), so the engine
keeps the last `presence.update` per chat it published (`observe`), in memory like upstream: a restart of the
session forgets it. wa-js answers subscribePresence with the Wids it subscribed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from functions.core.chats import Capability

Guarded = Callable[[str, Any], Awaitable[Any]]

_ONLINE = "async () => !!(await WPP.conn.markAvailable(true))"
_OFFLINE = "async () => !!(await WPP.conn.markUnavailable())"
_SUBSCRIBE = "async (chat) => (await WPP.contact.subscribePresence(chat)).length > 0"
# At most this many chats remembered (the oldest forgotten first): bounded memory per session.
MAX_CHATS = 5000


class WebJsPresence:
    """The presence capabilities by name; `guarded` runs a page function."""

    def __init__(self, guarded: Guarded) -> None:
        self._guarded = guarded
        self._last: dict[str, dict[str, Any]] = {}

    def table(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        return {
            Capability.PRESENCE_SET: lambda on: self._guarded(_ONLINE if on else _OFFLINE, None),
            Capability.PRESENCE_SUBSCRIBE: lambda chat: self._guarded(_SUBSCRIBE, chat),
            Capability.PRESENCE_GET: self.last,
        }

    def observe(self, event: str, data: Mapping[str, Any]) -> None:
        """Remember a published `presence.update` as its chat's last presence (`lastSeen` only when known)."""
        if event != "presence.update" or not data.get("chatId"):
            return
        chat = str(data["chatId"])
        people = [
            {key: value for key, value in dict(person).items() if value is not None}
            for person in data.get("participants") or []
        ]
        self._last.pop(chat, None)
        self._last[chat] = {**data, "participants": people}
        while len(self._last) > MAX_CHATS:
            self._last.pop(next(iter(self._last)))

    async def last(self, chat_id: str) -> dict[str, Any] | None:
        return self._last.get(chat_id)
