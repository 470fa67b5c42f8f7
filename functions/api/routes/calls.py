"""`/api/sessions/<id>/calls`: rejecting a ringing call and call links (the `openwa` SDK's `calls` resource).
An operator acts. See `functions.services.calls`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core import calls
from functions.core.enums import Role
from functions.schemas import calls as schemas
from functions.services.calls import CallService

blp = Blueprint("calls", __name__, url_prefix="/api/sessions", description="Calls of a session")

# A bad id or body (400), the session or call missing (404), not ready (409), WhatsApp refused (403), the
# engine lacks it (501: the webjs engine has no call links), the runner failed (502) or was too slow (504).
_ACT = (400, 403, 404, 409, 501, 502, 504)


def _calls() -> CallService:
    return services().calls


@blp.route("/<session_id>/calls/<call_id>/reject")
class Reject(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, schemas.RejectCallAnswerSchema)
    @blp.errors(*_ACT)
    def post(self, session_id: str, call_id: str) -> dict[str, Any]:
        """Reject a ringing incoming call (its id comes from the `call.received` event; 404 once it no
        longer rings)."""
        return _calls().reject(session_id, calls.call_id(call_id))


@blp.route("/<session_id>/calls/link")
class Link(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.CreateCallLinkSchema())
    @blp.response(200, schemas.CallLinkSchema)
    @blp.errors(*_ACT, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Create a shareable call link (`startTime` in epoch ms). The webjs engine answers 501: wa-js has
        no call links."""
        return _calls().create_link(session_id, body["type"], int(body["startTime"]))
