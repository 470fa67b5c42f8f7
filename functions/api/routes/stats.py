"""`/api/stats`: traffic statistics (upstream OpenWA's stats module, `reference/openwa.md` §2.4). The overview
and the message statistics cover the whole deployment: admin keys that are not session-scoped. A session's
own statistics: any key that may see the session. See `functions.services.stats`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.stats import (
    PeriodQuerySchema,
    StatsMessagesSchema,
    StatsOverviewSchema,
    StatsSessionSchema,
)

blp = Blueprint("stats", __name__, url_prefix="/api/stats", description="Traffic statistics")


@blp.route("/overview")
class Overview(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.response(200, StatsOverviewSchema)
    @blp.errors()
    def get(self) -> dict[str, Any]:
        """Sessions by status and messages sent, received and failed (ever and today, UTC)."""
        return services().stats.overview()


@blp.route("/messages")
class Messages(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.arguments(PeriodQuerySchema(), location="query")
    @blp.response(200, StatsMessagesSchema)
    @blp.errors(400)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Messages over `period` (24h, 7d, 30d): a time series, by type, by session and the top chats."""
        return services().stats.messages(query["period"])


@blp.route("/sessions/<session_id>")
class SessionStats(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, StatsSessionSchema)
    @blp.errors(404)
    def get(self, session_id: str) -> dict[str, Any]:
        """One session's messages (ever and today), its top chats and its last 24 hours by UTC hour."""
        return services().stats.session(session_id)
