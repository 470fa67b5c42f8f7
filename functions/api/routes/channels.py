"""`/api/sessions/<id>/channels`: WhatsApp Channels, i.e. newsletters (`reference/openwa.md` §2.4, the
`openwa` SDK's `channels` resource). Any key reads, an operator acts. See `functions.services.channels`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.segments import segment_except
from functions.api.wiring import services
from functions.core.channels import channel_id, invite_code
from functions.core.enums import Role
from functions.schemas import channels as schemas
from functions.schemas.chats import SuccessSchema
from functions.services.channels import ChannelService

blp = Blueprint("channels", __name__, url_prefix="/api/sessions", description="WhatsApp Channels")

# A bad id or body (400), the session or channel missing (404), a method the static `subscribe` beside the
# id does not answer (405), not ready (409), WhatsApp refused (403: not the owner...), the engine lacks it
# (501), the runner failed (502) or did not answer in time (504).
_READ = (400, 404, 405, 409, 501, 502, 504)
_ACT = (400, 403, 404, 405, 409, 501, 502, 504)
# Not the static `subscribe` beside it (functions.api.segments).
_SEGMENT = segment_except("subscribe")
blp.record_once(lambda state: state.app.url_map.converters.setdefault("channel", _SEGMENT))
_CHANNEL = "/<session_id>/channels/<channel:channel_key>"


def _channels() -> ChannelService:
    return services().channels


@blp.route("/<session_id>/channels")
class Channels(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.ChannelSchema(many=True))
    @blp.errors(*_READ)
    def get(self, session_id: str) -> list[dict[str, Any]]:
        """The channels the account follows or owns."""
        return _channels().all(session_id)

    @requires(Role.OPERATOR)
    @blp.arguments(schemas.CreateChannelSchema())
    @blp.response(201, schemas.ChannelSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Create a channel the account owns (its invite code is in the answer)."""
        return _channels().create(session_id, body["name"], body.get("description"))


@blp.route("/<session_id>/channels/subscribe")
class Subscribe(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.SubscribeChannelSchema())
    @blp.response(201, schemas.ChannelSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Follow a channel by its invite code or link (404 CHANNEL_INVITE_INVALID when no channel has it)."""
        return _channels().subscribe(session_id, invite_code(body["inviteCode"]))


@blp.route(_CHANNEL)
class Channel(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.ChannelSchema)
    @blp.errors(*_READ)
    def get(self, session_id: str, channel_key: str) -> dict[str, Any]:
        """One channel the account follows or owns."""
        return _channels().get(session_id, channel_id(channel_key))

    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT)
    def delete(self, session_id: str, channel_key: str) -> dict[str, Any]:
        """Unsubscribe (leave the channel; it goes on for everyone else)."""
        return _channels().unsubscribe(session_id, channel_id(channel_key))


@blp.route(f"{_CHANNEL}/messages")
class Messages(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(schemas.ChannelMessagesQuerySchema(), location="query")
    @blp.response(200, schemas.ChannelMessageSchema(many=True))
    @blp.errors(*_READ)
    def get(self, query: dict[str, Any], session_id: str, channel_key: str) -> list[dict[str, Any]]:
        """The channel's most recent posts (`limit`, default 50), oldest first."""
        return _channels().messages(session_id, channel_id(channel_key), query["limit"])


@blp.route(f"{_CHANNEL}/delete")
class Delete(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT)
    def post(self, session_id: str, channel_key: str) -> dict[str, Any]:
        """Delete a channel the account owns (403 ENGINE_REFUSED otherwise). Irreversible: every follower
        loses it."""
        return _channels().delete(session_id, channel_id(channel_key))


@blp.route(f"{_CHANNEL}/mute")
class Mute(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.MuteChannelSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str, channel_key: str) -> dict[str, Any]:
        """Mute or unmute the channel's notifications (the subscription stays)."""
        return _channels().mute(session_id, channel_id(channel_key), body["mute"])


@blp.route(f"{_CHANNEL}/admins/demote")
class DemoteAdmin(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.DemoteChannelAdminSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str, channel_key: str) -> dict[str, Any]:
        """Demote a channel admin. The webjs engine answers 501 ENGINE_NOT_SUPPORTED (wa-js cannot)."""
        return _channels().demote_admin(session_id, channel_id(channel_key), body["userId"])


@blp.route(f"{_CHANNEL}/owner/transfer")
class TransferOwnership(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.TransferChannelOwnershipSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str, channel_key: str) -> dict[str, Any]:
        """Hand the channel to a new owner. The webjs engine answers 501 ENGINE_NOT_SUPPORTED (wa-js
        cannot)."""
        return _channels().transfer(session_id, channel_id(channel_key), body["newOwnerId"])
