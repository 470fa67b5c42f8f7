"""Group bodies and answers (OpenWA's group DTOs; `openwa` SDK `CreateGroupRequest`, `GroupInfo`,
`ParticipantsResult`, `GroupSettings`...).

Unknown fields are refused (400). Participants are phone numbers or WhatsApp user ids, normalised to
`<digits>@c.us` (or kept as `@lid`), 1 to 256 of them (`functions.core.groups`).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from functions.core import groups
from functions.core.errors import ValidationFailed
from functions.schemas.common import StrictBoolean, StrictInteger, check_media_source

MAX_SUBJECT = 100
MAX_DESCRIPTION = 2048
_GROUP_EXAMPLE = "120363040000000001@g.us"
_USER_EXAMPLE = "15550001111@c.us"


class Participant(fields.String):
    """A person: a phone number (`+1 555 000 1111`) or a WhatsApp user id, normalised."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return groups.participant_id(text)
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc


def _participants(*, required: bool = True) -> fields.List[str]:
    return fields.List(
        Participant(validate=validate.Length(max=64)),
        required=required,
        validate=validate.Length(min=1, max=groups.MAX_PARTICIPANTS),
        metadata={"example": [_USER_EXAMPLE], "description": "1 to 256 phone numbers or user ids"},
    )


class CreateGroupSchema(Schema):
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_SUBJECT), metadata={"example": "Support team"}
    )
    participants = _participants()


class ParticipantsSchema(Schema):
    participants = _participants()


class MembershipAnswerSchema(Schema):
    participants = _participants(required=False)


class SubjectSchema(Schema):
    subject = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_SUBJECT), metadata={"example": "Support team"}
    )


class DescriptionSchema(Schema):
    description = fields.String(
        required=True, validate=validate.Length(max=MAX_DESCRIPTION), metadata={"example": "Alerts go here"}
    )


class JoinGroupSchema(Schema):
    inviteCode = fields.String(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"example": "AbCdEfGhIjKlMnOpQrStUv", "description": "A code or chat.whatsapp.com link"},
    )


class JoinInfoQuerySchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class GroupSettingsSchema(Schema):
    """At least one setting. `ephemeralSeconds`: 0 (off), 86400, 604800 or 7776000."""

    announce = StrictBoolean(metadata={"description": "Only admins send messages", "example": True})
    locked = StrictBoolean(metadata={"description": "Only admins edit the group's info"})
    ephemeralSeconds = StrictInteger(validate=validate.OneOf(groups.EPHEMERAL_SECONDS))
    memberAddMode = fields.String(validate=validate.OneOf(sorted(groups.MEMBER_ADD_MODES)))

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give at least one setting", field_name="announce")


class GroupPictureSchema(Schema):
    """Exactly one of `url` and `base64` (an image); `mimetype` optional (the bytes are sniffed)."""

    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048))
    base64 = fields.String(validate=validate.Length(min=1))
    mimetype = fields.String(
        validate=validate.Regexp(r"^[\w.+-]+/[\w.+-]+$"), metadata={"example": "image/png"}
    )

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        check_media_source(data)


class GroupSummarySchema(Schema):
    id = fields.String(required=True, metadata={"example": _GROUP_EXAMPLE})
    name = fields.String(required=True)
    participantsCount = fields.Integer()
    isAdmin = fields.Boolean()
    linkedParentJID = fields.String(allow_none=True)


class GroupParticipantSchema(Schema):
    id = fields.String(required=True, metadata={"example": _USER_EXAMPLE})
    number = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    isAdmin = fields.Boolean(required=True)
    isSuperAdmin = fields.Boolean(required=True)


class GroupInfoSchema(Schema):
    id = fields.String(required=True, metadata={"example": _GROUP_EXAMPLE})
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    owner = fields.String(allow_none=True)
    createdAt = fields.Integer(allow_none=True, metadata={"description": "Unix seconds"})
    participants = fields.List(fields.Nested(GroupParticipantSchema), required=True)
    isReadOnly = fields.Boolean()
    isAnnounce = fields.Boolean()
    linkedParentJID = fields.String(allow_none=True)


class GroupSettingsAnswerSchema(Schema):
    announce = fields.Boolean(required=True)
    locked = fields.Boolean(required=True)
    ephemeralSeconds = fields.Integer(required=True)
    memberAddMode = fields.String(validate=validate.OneOf(sorted(groups.MEMBER_ADD_MODES)))


class ParticipantResultSchema(Schema):
    id = fields.String(required=True)
    success = fields.Boolean(required=True)
    status = fields.Integer(required=True, metadata={"description": "WhatsApp's code: 200 done, 403, 409..."})
    message = fields.String(required=True)


class ParticipantsResultSchema(Schema):
    success = fields.Boolean(required=True, metadata={"description": "At least one participant changed"})
    message = fields.String()
    results = fields.List(fields.Nested(ParticipantResultSchema), required=True)


class GroupSuccessSchema(Schema):
    success = fields.Boolean(required=True)
    message = fields.String()


class PictureAnswerSchema(Schema):
    url = fields.String(allow_none=True, required=True)


class InviteCodeSchema(Schema):
    inviteCode = fields.String(required=True)
    inviteLink = fields.String(required=True, metadata={"example": "https://chat.whatsapp.com/AbCdEf"})
    message = fields.String()


class GroupJoinInfoSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    owner = fields.String()
    createdAt = fields.Integer()
    participantCount = fields.Integer()


class JoinGroupAnswerSchema(Schema):
    success = fields.Boolean(required=True)
    groupId = fields.String(required=True)
    pendingApproval = fields.Boolean(metadata={"description": "The group's admins must approve the join"})


class MembershipRequestSchema(Schema):
    participantId = fields.String(required=True)
    addedById = fields.String()
    method = fields.String(validate=validate.OneOf(["invite_link", "non_admin_add", "linked_group_join"]))
    requestedAt = fields.Float()
