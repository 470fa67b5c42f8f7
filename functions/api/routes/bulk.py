"""`/api/sessions/<id>/messages/send-bulk` and `.../messages/batch/<batchId>`: OpenWA's bulk sends.

A batch is answered 202 at once; its messages are sent by the session's process, each at its own time
(see `functions.services.bulk`), and its progress is read from their records.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.bulk import BatchCancelSchema, BatchStatusSchema, BulkAcceptedSchema, SendBulkSchema

blp = Blueprint("bulk", __name__, url_prefix="/api/sessions", description="Bulk sends and their batches")


@blp.route("/<session_id>/messages/send-bulk")
class SendBulk(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(SendBulkSchema())
    @blp.response(202, BulkAcceptedSchema)
    @blp.errors(404, 409, 413, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Send up to 100 messages, `delayBetweenMessages` apart (plus 0-2 s with `randomizeDelay`).

        `{{name}}` in a message's texts is replaced by its `variables`. A text message may name a stored
        template (`content.templateId` or `content.templateName`) instead of carrying `text`; its `variables`
        fill the template, and a missing one refuses the whole batch (400 TEMPLATE_VARIABLE_MISSING, with the
        item's `index`). Answers 202 with the batch at once; follow it at `statusUrl`. 409 when the session
        is not ready or the batchId is taken, 404 TEMPLATE_NOT_FOUND for an unknown template, 429
        SEND_PACING_LIMITED when send pacing already refuses this session's sends."""
        accepted: dict[str, Any] = services().bulk.create(session_id, body)
        return accepted


@blp.route("/<session_id>/messages/batch/<batch_id>")
class Batch(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, BatchStatusSchema)
    @blp.errors(404)
    def get(self, session_id: str, batch_id: str) -> dict[str, Any]:
        """A batch's progress and the outcome of each of its messages."""
        return services().bulk.status(session_id, batch_id)


@blp.route("/<session_id>/messages/batch/<batch_id>/cancel")
class CancelBatch(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, BatchCancelSchema)
    @blp.errors(400, 404)
    def post(self, session_id: str, batch_id: str) -> dict[str, Any]:
        """Cancel a running batch: its messages not yet sent are not sent (400 once the batch has ended)."""
        return services().bulk.cancel(session_id, batch_id)
