"""`/api/sessions/<id>/profile`: the account's own name, about text and picture (`reference/openwa.md` §2.4,
the `openwa` SDK's `profile` resource). An operator acts. See `functions.services.profile`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas import profile as schemas
from functions.schemas.chats import SuccessSchema
from functions.services.profile import ProfileService

blp = Blueprint("profile", __name__, url_prefix="/api/sessions", description="The account's own profile")

# A bad body (400), the session missing (404), not ready (409), WhatsApp refused (403), the engine lacks it
# (501), the runner failed (502) or did not answer in time (504).
_ACT = (400, 403, 404, 409, 501, 502, 504)


def _profile() -> ProfileService:
    return services().profile


@blp.route("/<session_id>/profile/name")
class Name(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.ProfileNameSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, body=True)
    def put(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Set the display name the account's contacts see (1-25 characters)."""
        return _profile().set_name(session_id, body["name"])


@blp.route("/<session_id>/profile/status")
class Status(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.ProfileStatusSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, body=True)
    def put(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Set the about text (at most 139 characters; empty clears it)."""
        return _profile().set_status(session_id, body["status"])


@blp.route("/<session_id>/profile/picture")
class Picture(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.ProfilePictureBodySchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, 413, 422, body=True)
    def put(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Set the profile picture from an image `url` or `base64` (size-capped, SSRF-guarded, sniffed)."""
        return _profile().set_picture(session_id, body)

    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT)
    def delete(self, session_id: str) -> dict[str, Any]:
        """Remove the profile picture."""
        return _profile().delete_picture(session_id)
