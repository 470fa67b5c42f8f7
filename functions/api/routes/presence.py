"""`/api/sessions/<id>/presence`: the account's own presence and the presence of chats it follows (the
`openwa` SDK's `sessions.set_online_presence`, `chats.subscribe_presence`, `chats.get_presence`). Any key
reads, an operator acts. See `functions.services.presence`."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.segments import segment_except
from functions.api.wiring import services
from functions.core import contacts
from functions.core.enums import Role
from functions.schemas import presence as schemas
from functions.schemas.chats import SuccessSchema
from functions.services.presence import PresenceService

blp = Blueprint("presence", __name__, url_prefix="/api/sessions", description="Presence")

# A bad id or body (400), the session missing (404), not ready (409), WhatsApp refused (403), the engine
# lacks it (501), the runner failed (502) or did not answer in time (504).
_READ = (400, 404, 405, 409, 501, 502, 504)
_ACT = (400, 403, 404, 405, 409, 501, 502, 504)
# 405: the static `subscribe` where the chat id goes, with another method. The id segment is anything
# but `subscribe` (functions.api.segments).
CHAT_SEGMENT = segment_except("subscribe")
blp.record_once(lambda state: state.app.url_map.converters.setdefault("presence_chat", CHAT_SEGMENT))


def _presence() -> PresenceService:
    return services().presence


@blp.route("/<session_id>/presence")
class OwnPresence(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.SetOwnPresenceSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, body=True)
    def put(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Appear online, or offline (`available: false` hands notifications back to the phone)."""
        return _presence().set_own(session_id, body["available"])


@blp.route("/<session_id>/presence/subscribe")
class Subscribe(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.SubscribePresenceSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Follow a person's or group's presence: changes arrive as `presence.update` events (until the
        session restarts)."""
        return _presence().subscribe(session_id, contacts.presence_chat_id(body["chatId"]))


@blp.route("/<session_id>/presence/<presence_chat:chat_id>")
class ChatPresence(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.ChatPresenceSchema)
    @blp.alt_response(204, description="No presence reported for this chat since the session started")
    @blp.errors(*_READ)
    def get(self, session_id: str, chat_id: str) -> dict[str, Any] | Response:
        """The last presence reported for a chat (204 when none has been)."""
        found = _presence().last(session_id, contacts.presence_chat_id(chat_id))
        return found if found is not None else Response(status=204)
