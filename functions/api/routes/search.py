"""`/api/search`: full-text search over the stored messages of the sessions the key may see (upstream
OpenWA's search module, operator role). See `functions.services.search`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import current_principal, requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.search import SearchQuerySchema, SearchResultsSchema
from functions.services.search import SearchQuery

blp = Blueprint("search", __name__, url_prefix="/api/search", description="Message search")


@blp.route("")
class Search(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(SearchQuerySchema(), location="query")
    @blp.response(200, SearchResultsSchema)
    @blp.errors(400)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Messages whose text (or caption) has every word of `q` as a word prefix, case- and
        accent-insensitive, newest first, within the message retention; a session-scoped key searches its
        sessions only."""
        search = SearchQuery(
            q=query["q"],
            limit=query["limit"],
            offset=query["offset"],
            chat_id=query.get("chatId"),
            direction=query.get("direction"),
            type=query.get("type"),
            sender=query.get("from_"),
            date_from=query.get("dateFrom"),
            date_to=query.get("dateTo"),
            session_id=query.get("sessionId"),
        )
        return services().search.search(search, only=current_principal().key.allowed_sessions or None)
