"""`/api/dashboard/overview`: the read-only figures of the dashboard's Overview page."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import current_principal, requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.dashboard import DashboardOverviewSchema
from functions.services.dashboard import DashboardService

blp = Blueprint("dashboard_api", __name__, url_prefix="/api/dashboard", description="Dashboard figures")


@blp.route("/overview")
class Overview(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, DashboardOverviewSchema)
    @blp.errors()
    def get(self) -> dict[str, Any]:
        """Sessions by status, messages sent/received today (UTC), queue depths, and live runners with
        their free capacity. Session figures cover the key's scope; the rest is gateway-wide."""
        wired = services()
        dashboard = DashboardService(
            wired.redis, wired.keys, wired.session_repo, max_sessions=wired.settings.max_sessions
        )
        return dashboard.overview(current_principal().key.allowed_sessions or None)
