"""`/api/sessions/<id>/groups`: OpenWA's group routes (`reference/openwa.md` §2.4 "Groups", the `openwa` SDK's
`groups` resource). Any key reads, an operator acts. See `functions.services.groups`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.segments import segment_except
from functions.api.wiring import services
from functions.core import groups
from functions.core.enums import Role
from functions.schemas import groups as schemas
from functions.schemas.chats import PageQuerySchema
from functions.services.groups import GroupService

blp = Blueprint("groups", __name__, url_prefix="/api/sessions", description="Groups of a session")

# Not a group id (400), session or group missing (404), session not ready (409), the engine lacks it (501),
# the runner failed (502) or did not answer in time (504); acting adds WhatsApp's refusal (403: not an admin,
# a locked group...).
_READ = (400, 404, 405, 409, 501, 502, 504)
_ACT = (400, 403, 404, 405, 409, 501, 502, 504)
_GROUP = "/<session_id>/groups/<group:group_id>"


# 405: a static `join` or `join-info` where the group id goes, with another method. The id segment is
# anything but those (functions.api.segments); the id itself is checked by the
# handler (400 naming `groupId`).
GROUP_SEGMENT = segment_except("join", "join-info")
blp.record_once(lambda state: state.app.url_map.converters.setdefault("group", GROUP_SEGMENT))


def _groups() -> GroupService:
    return services().groups


@blp.route("/<session_id>/groups")
class Groups(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, schemas.GroupSummarySchema(many=True))
    @blp.errors(*_READ)
    def get(self, query: dict[str, Any], session_id: str) -> list[dict[str, Any]]:
        """The groups the account is in (`limit` ≤ 1000, `offset`)."""
        return _groups().page(session_id, limit=query["limit"], offset=query["offset"])

    @requires(Role.OPERATOR)
    @blp.arguments(schemas.CreateGroupSchema())
    @blp.response(201, schemas.GroupSummarySchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Create a group with 1-256 participants (with pacing on, each new contact is a cold reach-out)."""
        return _groups().create(session_id, body["name"], body["participants"])


@blp.route("/<session_id>/groups/join-info")
class JoinInfo(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(schemas.JoinInfoQuerySchema(), location="query")
    @blp.response(200, schemas.GroupJoinInfoSchema)
    @blp.errors(*_READ)
    def get(self, query: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Preview the group an invite code opens, without joining it."""
        return _groups().join_info(session_id, query["code"])


@blp.route("/<session_id>/groups/join")
class Join(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.JoinGroupSchema())
    @blp.response(200, schemas.JoinGroupAnswerSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Join a group by invite code (or chat.whatsapp.com link)."""
        return _groups().join(session_id, body["inviteCode"])


@blp.route(_GROUP)
class Group(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.GroupInfoSchema)
    @blp.errors(*_READ)
    def get(self, session_id: str, group_id: str) -> dict[str, Any]:
        """The group: subject, description, owner, creation, settings flags and participants with roles."""
        return _groups().get(session_id, groups.group_id(group_id))


@blp.route(f"{_GROUP}/picture")
class Picture(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.PictureAnswerSchema)
    @blp.errors(*_READ)
    def get(self, session_id: str, group_id: str) -> dict[str, Any]:
        """The group picture's URL (`null` when it has none)."""
        return _groups().picture(session_id, groups.group_id(group_id))

    @requires(Role.OPERATOR)
    @blp.arguments(schemas.GroupPictureSchema())
    @blp.response(200, schemas.GroupSuccessSchema)
    @blp.errors(*_ACT, 413, 422, body=True)
    def put(self, body: dict[str, Any], session_id: str, group_id: str) -> dict[str, Any]:
        """Set the group picture from an image `url` or `base64` (size-capped, SSRF-guarded, sniffed)."""
        return _groups().set_picture(session_id, groups.group_id(group_id), body)

    @requires(Role.OPERATOR)
    @blp.response(200, schemas.GroupSuccessSchema)
    @blp.errors(*_ACT)
    def delete(self, session_id: str, group_id: str) -> dict[str, Any]:
        """Remove the group picture."""
        return _groups().delete_picture(session_id, groups.group_id(group_id))


@blp.route(f"{_GROUP}/invite-code")
class InviteCode(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.InviteCodeSchema)
    @blp.errors(*_ACT)
    def get(self, session_id: str, group_id: str) -> dict[str, Any]:
        """The group's invite code and link (WhatsApp tells them to admins)."""
        return _groups().invite_code(session_id, groups.group_id(group_id))


@blp.route(f"{_GROUP}/invite-code/revoke")
class RevokeInviteCode(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, schemas.InviteCodeSchema)
    @blp.errors(*_ACT)
    def post(self, session_id: str, group_id: str) -> dict[str, Any]:
        """Revoke the invite code: the old link stops working; the answer carries the new one."""
        return _groups().invite_code(session_id, groups.group_id(group_id), revoke=True)


@blp.route(f"{_GROUP}/participants")
class Participants(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.ParticipantsSchema())
    @blp.response(200, schemas.ParticipantsResultSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str, group_id: str) -> dict[str, Any]:
        """Add participants; one result each (a number WhatsApp refuses does not fail the others)."""
        return _change(session_id, group_id, "add", body)

    @requires(Role.OPERATOR)
    @blp.arguments(schemas.ParticipantsSchema())
    @blp.response(200, schemas.ParticipantsResultSchema)
    @blp.errors(*_ACT, body=True)
    def delete(self, body: dict[str, Any], session_id: str, group_id: str) -> dict[str, Any]:
        """Remove participants; one result each."""
        return _change(session_id, group_id, "remove", body)


def _change(session_id: str, group_id: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    gid = groups.group_id(group_id)
    return _groups().change_participants(session_id, gid, operation, body["participants"])


def _role_route(operation: str, summary: str) -> None:
    class RoleChange(MethodView):
        @requires(Role.OPERATOR)
        @blp.arguments(schemas.ParticipantsSchema())
        @blp.response(200, schemas.ParticipantsResultSchema)
        @blp.errors(*_ACT, body=True)
        def post(self, body: dict[str, Any], session_id: str, group_id: str) -> dict[str, Any]:
            return _change(session_id, group_id, operation, body)

    RoleChange.post.__doc__ = summary
    RoleChange.__name__ = f"Participants{operation.title()}"
    blp.route(f"{_GROUP}/participants/{operation}")(RoleChange)


_role_route("promote", "Make participants admins; one result each.")
_role_route("demote", "Make admins plain participants; one result each.")


@blp.route(f"{_GROUP}/subject")
class Subject(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.SubjectSchema())
    @blp.response(200, schemas.GroupSuccessSchema)
    @blp.errors(*_ACT, body=True)
    def put(self, body: dict[str, Any], session_id: str, group_id: str) -> dict[str, Any]:
        """Rename the group (1-100 characters)."""
        return _groups().set_subject(session_id, groups.group_id(group_id), body["subject"])


@blp.route(f"{_GROUP}/description")
class Description(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.DescriptionSchema())
    @blp.response(200, schemas.GroupSuccessSchema)
    @blp.errors(*_ACT, body=True)
    def put(self, body: dict[str, Any], session_id: str, group_id: str) -> dict[str, Any]:
        """Set the group description (up to 2048 characters; empty clears it)."""
        return _groups().set_description(session_id, groups.group_id(group_id), body["description"])


@blp.route(f"{_GROUP}/leave")
class Leave(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, schemas.GroupSuccessSchema)
    @blp.errors(*_ACT)
    def post(self, session_id: str, group_id: str) -> dict[str, Any]:
        """Leave the group."""
        return _groups().leave(session_id, groups.group_id(group_id))


@blp.route(f"{_GROUP}/settings")
class Settings(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.GroupSettingsAnswerSchema)
    @blp.errors(*_READ)
    def get(self, session_id: str, group_id: str) -> dict[str, Any]:
        """The group's settings: announce, locked, ephemeralSeconds, memberAddMode."""
        return _groups().settings(session_id, groups.group_id(group_id))

    @requires(Role.OPERATOR)
    @blp.arguments(schemas.GroupSettingsSchema())
    @blp.response(200, schemas.GroupSuccessSchema)
    @blp.errors(*_ACT, body=True)
    def put(self, body: dict[str, Any], session_id: str, group_id: str) -> dict[str, Any]:
        """Change settings (at least one); the webjs engine cannot change memberAddMode (501)."""
        return _groups().update_settings(session_id, groups.group_id(group_id), body)


@blp.route(f"{_GROUP}/membership-requests")
class MembershipRequests(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.MembershipRequestSchema(many=True))
    @blp.errors(*_ACT)
    def get(self, session_id: str, group_id: str) -> list[dict[str, Any]]:
        """Pending requests to join (WhatsApp shows them to admins)."""
        return _groups().membership_requests(session_id, groups.group_id(group_id))


def _answer_route(verb: str, summary: str) -> None:
    class Answer(MethodView):
        @requires(Role.OPERATOR)
        @blp.arguments(schemas.MembershipAnswerSchema(), required=False)
        @blp.response(200, schemas.ParticipantsResultSchema)
        @blp.errors(*_ACT, body=True)
        def post(self, body: dict[str, Any], session_id: str, group_id: str) -> dict[str, Any]:
            gid, people = groups.group_id(group_id), (body or {}).get("participants")
            return _groups().answer_requests(session_id, gid, people, approve=verb == "approve")

    Answer.post.__doc__ = summary
    Answer.__name__ = f"MembershipRequests{verb.title()}"
    blp.route(f"{_GROUP}/membership-requests/{verb}")(Answer)


_answer_route("approve", "Approve pending requests (omit participants: all of them); one result each.")
_answer_route("reject", "Reject pending requests (omit participants: all of them); one result each.")
