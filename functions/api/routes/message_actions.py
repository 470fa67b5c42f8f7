"""`/api/sessions/<id>/messages/...`: actions on existing messages (react, edit, delete, star, pin, unpin,
vote-poll), the live history of a chat and a message's stored reactions. See
`functions.services.message_actions`; the send routes are in `functions.api.routes.messages`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.chats import SuccessSchema, path_chat_id
from functions.schemas.message_actions import (
    DeleteMessageSchema,
    EditMessageSchema,
    HistoryQuerySchema,
    IncomingMessageSchema,
    PinMessageSchema,
    ReactionSchema,
    ReactSchema,
    StarMessageSchema,
    UnpinMessageSchema,
    VotePollSchema,
)
from functions.schemas.messages import MessageAcceptedSchema

blp = Blueprint(
    "message_actions", __name__, url_prefix="/api/sessions", description="Act on and read back messages"
)

# Session missing or message unknown (404), session not ready (409), WhatsApp refused (403), the engine
# lacks the action (501), the runner failed (502) or did not answer in time (504).
_ENGINE_ERRORS = (403, 404, 409, 501, 502, 504)
_DONE = {"success": True}


@blp.route("/<session_id>/messages/react")
class React(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(ReactSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ENGINE_ERRORS, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """React to a message with an emoji; `""` removes the reaction."""
        services().message_actions.react(session_id, body["messageId"], body["emoji"])
        return _DONE


@blp.route("/<session_id>/messages/edit")
class Edit(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(EditMessageSchema())
    @blp.response(200, MessageAcceptedSchema)
    @blp.errors(*_ENGINE_ERRORS, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Edit the text of an own message (mentions are re-applied, not kept)."""
        return services().message_actions.edit(session_id, body["messageId"], body["body"], body["mentions"])


@blp.route("/<session_id>/messages/delete")
class Delete(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(DeleteMessageSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ENGINE_ERRORS, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Delete a message for everyone (the default) or, with `forEveryone: false`, only here."""
        services().message_actions.delete(
            session_id, body["chatId"], body["messageId"], for_everyone=body["forEveryone"]
        )
        return _DONE


@blp.route("/<session_id>/messages/star")
class Star(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(StarMessageSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ENGINE_ERRORS, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Star or unstar a message."""
        services().message_actions.star(session_id, body["messageId"], star=body["star"])
        return _DONE


@blp.route("/<session_id>/messages/pin")
class Pin(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(PinMessageSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ENGINE_ERRORS, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Pin a message in its chat for 24 hours, 7 days or 30 days."""
        services().message_actions.pin(session_id, body["messageId"], body["durationSeconds"])
        return _DONE


@blp.route("/<session_id>/messages/unpin")
class Unpin(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(UnpinMessageSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ENGINE_ERRORS, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Unpin a message."""
        services().message_actions.unpin(session_id, body["messageId"])
        return _DONE


@blp.route("/<session_id>/messages/vote-poll")
class VotePoll(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(VotePollSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ENGINE_ERRORS, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Vote in a poll by option texts (`[]` clears the vote). 501 on engines that cannot vote."""
        services().message_actions.vote(session_id, body["pollMessageId"], body["options"])
        return _DONE


@blp.route("/<session_id>/messages/<chat_id>/history")
class History(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(HistoryQuerySchema(), location="query")
    @blp.response(200, IncomingMessageSchema(many=True))
    @blp.errors(400, 404, 409, 501, 502, 504)
    def get(self, query: dict[str, Any], session_id: str, chat_id: str) -> list[dict[str, Any]]:
        """The chat's last messages read live from WhatsApp, oldest first (`limit` ≤ 100, ≤ 2000 with
        `deep`)."""
        return services().message_actions.history(session_id, path_chat_id(chat_id), query["limit"])


@blp.route("/<session_id>/messages/<chat_id>/<message_id>/reactions")
class Reactions(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, ReactionSchema(many=True))
    @blp.errors(400, 404)
    def get(self, session_id: str, chat_id: str, message_id: str) -> list[dict[str, Any]]:
        """A stored message's reactions, grouped by emoji."""
        return services().message_actions.reactions(session_id, path_chat_id(chat_id), message_id)
