"""Presence: the account's own online state, following a chat's presence and reading the last one reported
(the `openwa` SDK's `sessions.set_online_presence`, `chats.subscribe_presence`, `chats.get_presence`).

Asked of the session's engine at once (see `functions.services.session_engine`). Changes arrive as
`presence.update` events; the last one per chat is held by the session's process, in memory like upstream:
a restart forgets it, and a subscription does not survive one either.
"""

from __future__ import annotations

from typing import Any

from functions.core.chats import Capability
from functions.services.session_engine import SessionEngine


class PresenceService:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def set_own(self, session_id: str, available: bool) -> dict[str, Any]:
        """Appear online (`available`) or offline (handing notifications back to the phone)."""
        done = bool(self._engine.call(session_id, Capability.PRESENCE_SET, available))
        message = f"Presence set to {'online' if available else 'offline'}"
        return {"success": done, "message": message if done else "WhatsApp did not confirm"}

    def subscribe(self, session_id: str, chat_id: str) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.PRESENCE_SUBSCRIBE, chat_id))
        return {"success": done, "message": f"Subscribed to the presence of {chat_id}"}

    def last(self, session_id: str, chat_id: str) -> dict[str, Any] | None:
        """ChatPresence: the last one reported for `chat_id`, or None when none has been."""
        found = self._engine.call(session_id, Capability.PRESENCE_GET, chat_id)
        return dict(found) if found else None
