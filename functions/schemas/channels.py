"""Channel bodies and answers (OpenWA's Channel and ChannelMessage; `openwa` SDK `ChannelRecord`,
`CreateChannelRequest`, `MuteChannelRequest`, `SubscribeChannelRequest`, `ChannelMessageQuery`,
`DemoteChannelAdminRequest`, `TransferChannelOwnershipRequest`). Unknown fields are refused (400)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from functions.core import channels
from functions.schemas.common import StrictBoolean
from functions.schemas.groups import Participant

_CHANNEL_EXAMPLE = "120363040000000002@newsletter"


class ChannelSchema(Schema):
    id = fields.String(required=True, metadata={"example": _CHANNEL_EXAMPLE})
    name = fields.String(required=True)
    description = fields.String()
    inviteCode = fields.String()
    subscriberCount = fields.Integer()
    picture = fields.String()
    verified = fields.Boolean()
    createdAt = fields.Integer(metadata={"description": "Epoch seconds"})


class ChannelMessageSchema(Schema):
    id = fields.String(required=True)
    body = fields.String(required=True)
    timestamp = fields.Integer(required=True, metadata={"description": "Epoch seconds"})
    hasMedia = fields.Boolean(required=True)
    mediaUrl = fields.String()


class ChannelMessagesQuerySchema(Schema):
    limit = fields.Integer(
        load_default=channels.DEFAULT_MESSAGES,
        validate=validate.Range(min=1, max=channels.MAX_MESSAGES),
        metadata={"description": "The most recent messages to return", "example": 20},
    )


class CreateChannelSchema(Schema):
    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=channels.MAX_NAME),
            validate.Regexp(r"\S", error="must not be blank"),
        ],
        metadata={"example": "Shop news"},
    )
    description = fields.String(
        validate=validate.Length(max=channels.MAX_DESCRIPTION), metadata={"example": "Offers, weekly"}
    )


class MuteChannelSchema(Schema):
    mute = StrictBoolean(
        required=True, metadata={"description": "true mutes, false unmutes", "example": True}
    )


class SubscribeChannelSchema(Schema):
    inviteCode = fields.String(
        required=True,
        validate=validate.Length(min=1, max=256),
        metadata={"description": "The code, or the whole invite link", "example": "0029VaExampleCode1"},
    )


class DemoteChannelAdminSchema(Schema):
    userId = Participant(required=True, metadata={"example": "15550001111@c.us"})


class TransferChannelOwnershipSchema(Schema):
    newOwnerId = Participant(required=True, metadata={"example": "15550001111@c.us"})
