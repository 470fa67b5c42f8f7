"""`/api/sessions/<id>/chats`: the chat list and chat-level actions (read, unread, archive, mute, pin, delete,
typing, clear). See `functions.services.chats`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.chats import (
    ArchiveChatSchema,
    ChatBodySchema,
    ChatSummarySchema,
    MarkReadSchema,
    MuteChatSchema,
    PageQuerySchema,
    PinChatSchema,
    SuccessSchema,
    TypingSchema,
    path_chat_id,
)
from functions.services.chats import ChatService

blp = Blueprint("chats", __name__, url_prefix="/api/sessions", description="Chats of a session")

# Session missing or chat unknown (404), session not ready (409), WhatsApp refused (403), the engine lacks
# the action (501), the runner failed (502) or did not answer in time (504).
_ENGINE_ERRORS = (403, 404, 409, 501, 502, 504)
Action = Callable[[ChatService, str, dict[str, Any]], dict[str, Any]]


@blp.route("/<session_id>/chats")
class Chats(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, ChatSummarySchema(many=True))
    @blp.errors(400, 404, 409, 501, 502, 504)
    def get(self, query: dict[str, Any], session_id: str) -> list[dict[str, Any]]:
        """Chats, most recent first (`limit` ≤ 1000, `offset`)."""
        return services().chats.page(session_id, limit=query["limit"], offset=query["offset"])


def _chat_route(name: str, schema: type, action: Action, summary: str) -> None:
    """Register `POST /<session_id>/chats/<name>`, answering `{success}`."""

    class ChatAction(MethodView):
        @requires(Role.OPERATOR)
        @blp.arguments(schema())
        @blp.response(200, SuccessSchema)
        @blp.errors(*_ENGINE_ERRORS, body=True)
        def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
            return action(services().chats, session_id, body)

    ChatAction.post.__doc__ = summary
    ChatAction.__name__ = "Chat" + name.title()
    blp.route(f"/<session_id>/chats/{name}", endpoint=f"chats_{name}")(ChatAction)


_chat_route(
    "read",
    MarkReadSchema,
    lambda chats, sid, body: chats.mark_read(sid, body["chatId"]),
    "Mark a chat read (the whole chat on WhatsApp Web; `messageIds` is accepted for compatibility).",
)
_chat_route(
    "unread",
    ChatBodySchema,
    lambda chats, sid, body: chats.mark_unread(sid, body["chatId"]),
    "Mark a chat unread.",
)
_chat_route(
    "archive",
    ArchiveChatSchema,
    lambda chats, sid, body: chats.archive(sid, body["chatId"], body["archive"]),
    "Archive or unarchive a chat (`success: false` when WhatsApp declined).",
)
_chat_route(
    "mute",
    MuteChatSchema,
    lambda chats, sid, body: chats.mute(sid, body["chatId"], body["muteUntil"]),
    "Mute a chat until `muteUntil` (epoch milliseconds), or unmute it with `null`.",
)
_chat_route(
    "pin",
    PinChatSchema,
    lambda chats, sid, body: chats.pin(sid, body["chatId"], body["pin"]),
    "Pin or unpin a chat (`success: false` when WhatsApp declined: at most 3 pinned chats).",
)
_chat_route(
    "delete",
    ChatBodySchema,
    lambda chats, sid, body: chats.delete(sid, body["chatId"]),
    "Delete a chat; our stored copy of its messages is deleted too.",
)
_chat_route(
    "typing",
    TypingSchema,
    lambda chats, sid, body: chats.typing(sid, body["chatId"], body["state"]),
    "Show typing or recording in a chat, or stop showing it (`paused`).",
)


@blp.route("/<session_id>/chats/<chat_id>/messages")
class ChatMessages(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(400, *_ENGINE_ERRORS)
    def delete(self, session_id: str, chat_id: str) -> dict[str, Any]:
        """Clear every message of a chat, keeping the chat; our stored copy of them is deleted too."""
        return services().chats.clear(session_id, path_chat_id(chat_id))
