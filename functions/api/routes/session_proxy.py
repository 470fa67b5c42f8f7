"""`/api/sessions/<id>/proxy`: a session's outbound proxy, read masked and changed by an unscoped admin (the
`openwa` SDK's `sessions.get_proxy` / `update_proxy`, which PATCHes; PUT is accepted alike). A change
applies at the session's next start. See `functions.services.session_proxy`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.audit import audit
from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.session_proxy import SessionProxySchema, UpdateSessionProxySchema

blp = Blueprint("session_proxy", __name__, url_prefix="/api/sessions", description="A session's proxy")


@blp.route("/<session_id>/proxy")
class SessionProxy(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.response(200, SessionProxySchema)
    @blp.errors(404)
    def get(self, session_id: str) -> dict[str, Any]:
        """The session's proxy, masked: scheme, host and port, whether it has credentials (never shown)."""
        return services().session_proxy.get(session_id)

    @requires(Role.ADMIN, unscoped=True)
    @blp.arguments(UpdateSessionProxySchema())
    @blp.response(200, SessionProxySchema)
    @blp.errors(400, 404, body=True)
    def patch(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Set the proxy (`proxyUrl`) or clear it (null), from the session's next start; PUT alike."""
        proxy = services().session_proxy.update(session_id, body["proxyUrl"])
        audit(
            "session_proxy_updated", session_id=session_id, enabled=proxy["enabled"], host=proxy["proxyHost"]
        )
        return proxy

    put = patch
