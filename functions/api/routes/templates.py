"""`/api/sessions/<id>/templates` and `.../messages/send-template`: stored message templates (OpenWA's,
`reference/openwa.md` §2.4; the `openwa` SDK's `templates` resource and `messages.send_template`). Any key
reads, an operator writes and sends. See `functions.services.templates`."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from functions.api.audit import audit
from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.routes.messages import IDEMPOTENCY_HEADER
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.messages import MessageAcceptedSchema
from functions.schemas.templates import (
    CreateTemplateSchema,
    SendTemplateSchema,
    TemplateSchema,
    UpdateTemplateSchema,
)
from functions.services.messages import fingerprint
from functions.services.templates import TemplateService

blp = Blueprint("templates", __name__, url_prefix="/api/sessions", description="Message templates")

_ONE = "/<session_id>/templates/<template_id>"


def _templates() -> TemplateService:
    return services().templates


@blp.route("/<session_id>/templates")
class Templates(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, TemplateSchema(many=True))
    @blp.errors(404)
    def get(self, session_id: str) -> list[dict[str, Any]]:
        """The session's templates, oldest first."""
        return _templates().list(session_id)

    @requires(Role.OPERATOR)
    @blp.arguments(CreateTemplateSchema())
    @blp.response(201, TemplateSchema)
    @blp.errors(404, 409, body=True)  # 409: the name is taken, or the session holds the most it may
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Create a template: `name` (unique in the session), `body` with `{{variable}}` placeholders,
        optional `header` and `footer`."""
        record = _templates().create(session_id, body)
        audit("template_created", session_id=session_id, templateId=record["id"])
        return record


@blp.route(_ONE)
class Template(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, TemplateSchema)
    @blp.errors(404)
    def get(self, session_id: str, template_id: str) -> dict[str, Any]:
        """One template."""
        return _templates().get(session_id, template_id)

    @requires(Role.OPERATOR)
    @blp.arguments(UpdateTemplateSchema())
    @blp.response(200, TemplateSchema)
    @blp.errors(404, 409, body=True)
    def put(self, body: dict[str, Any], session_id: str, template_id: str) -> dict[str, Any]:
        """Change some fields of a template (`header` or `footer` null removes it)."""
        record = _templates().update(session_id, template_id, body)
        audit("template_updated", session_id=session_id, templateId=template_id)
        return record

    @requires(Role.OPERATOR)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, session_id: str, template_id: str) -> None:
        """Delete a template (sends already accepted are not affected)."""
        _templates().delete(session_id, template_id)
        audit("template_deleted", session_id=session_id, templateId=template_id)


@blp.route("/<session_id>/messages/send-template")
class SendTemplate(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(SendTemplateSchema())
    @blp.response(201, MessageAcceptedSchema)
    @blp.errors(404, 409, 413, 422, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Render a stored template with `vars` and send it as a text (400 `TEMPLATE_VARIABLE_MISSING`
        names any placeholder without a value).

        Answers at once; the session's process sends it. Send `Idempotency-Key` to make a retry return the
        first answer (24 h)."""
        return _templates().send(
            session_id,
            body,
            fingerprint=fingerprint("send-template", body),
            idempotency_key=request.headers.get(IDEMPOTENCY_HEADER) or None,
        )
