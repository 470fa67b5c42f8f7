"""WhatsApp Business chat labels (the `openwa` SDK's `labels` resource; upstream's label controller).

Asked of the session's engine at once (see `functions.services.session_engine`). Reads work on any account
(an account that is not a business one has no labels); writes on one answer 422 NOT_A_BUSINESS_ACCOUNT. An
unknown label is 404 LABEL_NOT_FOUND, a chat the account does not have 404 CHAT_NOT_FOUND, a channel 422
CHAT_LABELS_UNSUPPORTED. Ids arrive validated (`functions.core.labels`).

Upsert keys the write on the label id: an existing label is rewritten (name, and colour when given); when no
label has that id, a new one is created and WhatsApp numbers it (its id is in the answer's `label`).
"""

from __future__ import annotations

from typing import Any

from functions.core.chats import Capability
from functions.core.labels import labelled_chat_id
from functions.services.chats import chat_summary
from functions.services.session_engine import SessionEngine


def label_record(raw: dict[str, Any]) -> dict[str, Any]:
    """OpenWA's Label `{id, name, hexColor}` of an engine label."""
    return {
        "id": str(raw["id"]),
        "name": str(raw.get("name") or ""),
        "hexColor": str(raw.get("hexColor") or ""),
    }


class LabelService:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def all(self, session_id: str) -> list[dict[str, Any]]:
        return [label_record(raw) for raw in self._engine.call(session_id, Capability.LABELS) or []]

    def get(self, session_id: str, label_id: str) -> dict[str, Any]:
        return label_record(self._engine.call(session_id, Capability.LABEL, label_id))

    def upsert(self, session_id: str, label_id: str, name: str, color: int | None) -> dict[str, Any]:
        saved = self._engine.call(session_id, Capability.LABEL_UPSERT, label_id, name, color)
        label = label_record(saved)
        verb = f"created with id {label['id']}" if saved.get("created") else "updated"
        return {"success": True, "message": f"Label {verb}", "label": label}

    def delete(self, session_id: str, label_id: str) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.LABEL_DELETE, label_id))
        return {
            "success": done,
            "message": "Label deleted" if done else "WhatsApp did not confirm the deletion",
        }

    def chats(self, session_id: str, label_id: str) -> list[dict[str, Any]]:
        """ChatSummary[] of the chats carrying the label."""
        return [chat_summary(row) for row in self._engine.call(session_id, Capability.LABEL_CHATS, label_id)]

    def of_chat(self, session_id: str, chat_id: str) -> list[dict[str, Any]]:
        """The chat's labels (a channel has none: [])."""
        if chat_id.endswith("@newsletter"):
            self._engine.ready(session_id)
            return []
        return [
            label_record(raw) for raw in self._engine.call(session_id, Capability.CHAT_LABELS, chat_id) or []
        ]

    def change_on_chat(self, session_id: str, chat_id: str, label_id: str, add: bool) -> dict[str, Any]:
        """Put the label on the chat (`add`) or take it off; the chat's other labels stay."""
        chat = labelled_chat_id(chat_id)
        done = bool(self._engine.call(session_id, Capability.CHAT_LABEL, chat, label_id, add))
        verb = "added to" if add else "removed from"
        return {
            "success": done,
            "message": f"Label {label_id} {verb} {chat}" if done else "WhatsApp did not confirm",
        }
