"""The session's chat list and chat-level actions (read, unread, archive, pin, mute, delete, clear, typing).

Everything is asked of the session's engine at once (see `functions.services.session_engine`); action
routes answer OpenWA's `{success}`, where `false` is a real outcome (WhatsApp declined, e.g. a fourth pin).
Clearing or deleting a chat also drops our stored copy of its messages, as OpenWA does.
"""

from __future__ import annotations

from typing import Any

from functions.core.chats import Capability, chat_kind
from functions.services.session_engine import SessionEngine
from functions.state.messages import MessageRepository


def chat_summary(row: dict[str, Any]) -> dict[str, Any]:
    """An engine chat row (`capabilities.chats`) as OpenWA's ChatSummary (mute expiry in epoch ms)."""
    chat_id = str(row["id"])
    summary: dict[str, Any] = {
        "id": chat_id,
        "name": row.get("name") or chat_id.split("@", 1)[0],
        "isGroup": bool(row.get("isGroup")),
        "kind": chat_kind(chat_id),
        "unreadCount": int(row.get("unreadCount") or 0),
        "timestamp": int(row.get("t") or 0),
        "archived": bool(row.get("archive")),
        "pinned": bool(row.get("pin")),
        "muted": bool(row.get("isMuted")),
    }
    if summary["muted"]:
        expiration = int(row.get("muteExpiration") or 0)
        summary["muteExpiration"] = expiration * 1000 if expiration > 0 else 0  # 0: until unmuted
    last = row.get("last")
    if last:
        summary["lastMessage"] = str(last.get("body") or last.get("caption") or "")
        summary["lastMessageType"] = last.get("type")
    return summary


class ChatService:
    def __init__(self, engine: SessionEngine, messages: MessageRepository) -> None:
        self._engine, self._messages = engine, messages

    def page(self, session_id: str, *, limit: int, offset: int) -> list[dict[str, Any]]:
        """Chats, most recent first."""
        page = self._engine.call(session_id, Capability.CHATS, offset, limit)
        return [chat_summary(row) for row in page["rows"]]

    def mark_read(self, session_id: str, chat_id: str) -> dict[str, Any]:
        """Mark the chat read (chat-level on WhatsApp Web: every message in it)."""
        self._engine.call(session_id, Capability.CHAT_READ, chat_id)
        return {"success": True}

    def mark_unread(self, session_id: str, chat_id: str) -> dict[str, Any]:
        self._engine.call(session_id, Capability.CHAT_UNREAD, chat_id)
        return {"success": True}

    def archive(self, session_id: str, chat_id: str, archive: bool) -> dict[str, Any]:
        return {"success": bool(self._engine.call(session_id, Capability.CHAT_ARCHIVE, chat_id, archive))}

    def pin(self, session_id: str, chat_id: str, pin: bool) -> dict[str, Any]:
        return {"success": bool(self._engine.call(session_id, Capability.CHAT_PIN, chat_id, pin))}

    def mute(self, session_id: str, chat_id: str, until_ms: int | None) -> dict[str, Any]:
        """Mute until `until_ms` (epoch milliseconds), or unmute with None."""
        until = None if until_ms is None else until_ms // 1000
        return {"success": bool(self._engine.call(session_id, Capability.CHAT_MUTE, chat_id, until))}

    def typing(self, session_id: str, chat_id: str, state: str) -> dict[str, Any]:
        """Show typing or recording in the chat, or stop (paused)."""
        self._engine.call(session_id, Capability.CHAT_TYPING, chat_id, state)
        return {"success": True}

    def delete(self, session_id: str, chat_id: str) -> dict[str, Any]:
        return self._dropping(session_id, chat_id, Capability.CHAT_DELETE)

    def clear(self, session_id: str, chat_id: str) -> dict[str, Any]:
        """Delete every message of the chat, keeping the chat."""
        return self._dropping(session_id, chat_id, Capability.CHAT_CLEAR)

    def _dropping(self, session_id: str, chat_id: str, capability: Capability) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, capability, chat_id))
        if done:
            self._messages.delete_chat(session_id, chat_id)
        return {"success": done}
