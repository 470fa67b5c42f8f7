"""`/api/sessions/<id>/labels`: WhatsApp Business chat labels (`reference/openwa.md` §2.4, the `openwa` SDK's
`labels` resource). Any key reads, an operator writes. See `functions.services.labels`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.segments import segment_except
from functions.api.wiring import services
from functions.core.enums import Role
from functions.core.labels import label_id
from functions.schemas import labels as schemas
from functions.schemas.chats import ChatSummarySchema, SuccessSchema, path_chat_id
from functions.services.labels import LabelService

blp = Blueprint("labels", __name__, url_prefix="/api/sessions", description="WhatsApp Business labels")

# A bad id or body (400), the session, label or chat missing (404), not ready (409), WhatsApp refused (403),
# the engine lacks it (501), the runner failed (502) or did not answer in time (504).
_READ = (400, 404, 409, 501, 502, 504)
# Writing also answers 422: not a business account (NOT_A_BUSINESS_ACCOUNT), or a channel
# (CHAT_LABELS_UNSUPPORTED).
_WRITE = (400, 403, 404, 409, 422, 501, 502, 504)
# Not the static `chat` beside it (functions.api.segments).
_SEGMENT = segment_except("chat")
blp.record_once(lambda state: state.app.url_map.converters.setdefault("label", _SEGMENT))
_LABEL = "/<session_id>/labels/<label:label_key>"
_CHAT = "/<session_id>/labels/chat/<chat_key>"


def _labels() -> LabelService:
    return services().labels


@blp.route("/<session_id>/labels")
class Labels(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.LabelSchema(many=True))
    @blp.errors(*_READ)
    def get(self, session_id: str) -> list[dict[str, Any]]:
        """The account's labels (none on an account that is not a business one)."""
        return _labels().all(session_id)


@blp.route(_LABEL)
class Label(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.LabelSchema)
    @blp.errors(*_READ)
    def get(self, session_id: str, label_key: str) -> dict[str, Any]:
        """One label (404 LABEL_NOT_FOUND when the account has none with this id)."""
        return _labels().get(session_id, label_id(label_key))

    @requires(Role.OPERATOR)
    @blp.arguments(schemas.UpsertLabelSchema())
    @blp.response(200, schemas.UpsertLabelAnswerSchema)
    @blp.errors(*_WRITE, body=True)
    def put(self, body: dict[str, Any], session_id: str, label_key: str) -> dict[str, Any]:
        """Rewrite the label with this id (name, and colour when given), or, when none has it, create one
        (WhatsApp numbers new labels: the new id is in `label.id`). Business accounts only (422)."""
        return _labels().upsert(session_id, label_id(label_key), body["name"], body.get("color"))

    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(*_WRITE)
    def delete(self, session_id: str, label_key: str) -> dict[str, Any]:
        """Delete the label; it disappears from every chat it was on. Business accounts only (422)."""
        return _labels().delete(session_id, label_id(label_key))


@blp.route(f"{_LABEL}/chats")
class LabelChats(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, ChatSummarySchema(many=True))
    @blp.errors(*_READ)
    def get(self, session_id: str, label_key: str) -> list[dict[str, Any]]:
        """The chats carrying the label."""
        return _labels().chats(session_id, label_id(label_key))


@blp.route(_CHAT)
class ChatLabels(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.LabelSchema(many=True))
    @blp.errors(*_READ)
    def get(self, session_id: str, chat_key: str) -> list[dict[str, Any]]:
        """The chat's labels (a channel carries none)."""
        return _labels().of_chat(session_id, path_chat_id(chat_key))

    @requires(Role.OPERATOR)
    @blp.arguments(schemas.AddLabelSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_WRITE, body=True)
    def post(self, body: dict[str, Any], session_id: str, chat_key: str) -> dict[str, Any]:
        """Put a label on the chat (its other labels stay). Business accounts only (422)."""
        return _labels().change_on_chat(session_id, path_chat_id(chat_key), body["labelId"], add=True)


@blp.route(f"{_CHAT}/<label_key>")
class ChatLabel(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(*_WRITE)
    def delete(self, session_id: str, chat_key: str, label_key: str) -> dict[str, Any]:
        """Take a label off the chat (its other labels stay). Business accounts only (422)."""
        chat = path_chat_id(chat_key)
        return _labels().change_on_chat(session_id, chat, label_id(label_key), add=False)
