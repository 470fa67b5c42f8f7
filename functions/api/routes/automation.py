"""`/api/sessions/<id>/automation-rules`: auto-reply rules (OpenWA's automation rules, `reference/openwa.md`
§2.4). An operator reads and writes them; the replies are sent by the `functions.jobs.auto_reply` job. See
`functions.services.automation`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.audit import audit
from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.automation import (
    AutomationRuleSchema,
    CreateAutomationRuleSchema,
    UpdateAutomationRuleSchema,
)
from functions.services.automation import AutomationService

blp = Blueprint("automation", __name__, url_prefix="/api/sessions", description="Auto-reply rules")


def _automation() -> AutomationService:
    return services().automation


@blp.route("/<session_id>/automation-rules")
class AutomationRules(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, AutomationRuleSchema(many=True))
    @blp.errors(404)
    def get(self, session_id: str) -> list[dict[str, Any]]:
        """The session's auto-reply rules, oldest first: the order they are tried in."""
        return _automation().list(session_id)

    @requires(Role.OPERATOR)
    @blp.arguments(CreateAutomationRuleSchema())
    @blp.response(201, AutomationRuleSchema)
    @blp.errors(404, 409, body=True)  # 404: the session or the template; 409: the session holds the most
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Create a rule: inbound messages matching every condition get `replyText` (or the template), at
        most once per chat per `cooldownSeconds` (default 60), never our own, in groups only with
        `includeGroups`. The first enabled rule that matches a message decides."""
        record = _automation().create(session_id, body)
        audit("automation_rule_created", session_id=session_id, ruleId=record["id"])
        return record


@blp.route("/<session_id>/automation-rules/<rule_id>")
class AutomationRule(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, AutomationRuleSchema)
    @blp.errors(404)
    def get(self, session_id: str, rule_id: str) -> dict[str, Any]:
        """One rule."""
        return _automation().get(session_id, rule_id)

    @requires(Role.OPERATOR)
    @blp.arguments(UpdateAutomationRuleSchema())
    @blp.response(200, AutomationRuleSchema)
    @blp.errors(404, 409, body=True)
    def put(self, body: dict[str, Any], session_id: str, rule_id: str) -> dict[str, Any]:
        """Change some fields of a rule (`enabled: false` pauses it)."""
        record = _automation().update(session_id, rule_id, body)
        audit("automation_rule_updated", session_id=session_id, ruleId=rule_id)
        return record

    @requires(Role.OPERATOR)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, session_id: str, rule_id: str) -> None:
        """Delete a rule (replies already accepted are still sent)."""
        _automation().delete(session_id, rule_id)
        audit("automation_rule_deleted", session_id=session_id, ruleId=rule_id)
