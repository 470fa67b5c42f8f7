"""`/api/sessions/<id>/status`: stories (WhatsApp "Status"; `reference/openwa.md` §2.4, the `openwa` SDK's
`status` resource). Any key reads the stories the session received; an operator posts and deletes the
account's own. See `functions.services.stories`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Response
from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.segments import segment_except
from functions.api.wiring import services
from functions.core.enums import Role
from functions.core.errors import ValidationFailed
from functions.core.stories import is_status_id
from functions.schemas import stories as schemas
from functions.schemas.chats import SuccessSchema, path_chat_id
from functions.services.stories import StoryService

blp = Blueprint("status", __name__, url_prefix="/api/sessions", description="Stories (WhatsApp Status)")

_SENDS = ("send-text", "send-image", "send-video", "send-voice")
# A contact id (GET) or a status id (DELETE), never a static `send-*` name (functions.api.segments).
STATUS_SEGMENT = segment_except(*_SENDS)
blp.record_once(lambda state: state.app.url_map.converters.setdefault("status_ref", STATUS_SEGMENT))

# A bad id (400), the session missing (404), a static `send-*` name with another method (405).
_READ = (400, 404, 405)
# Posting: a bad body (400), WhatsApp refused (403), the session missing (404), not ready (409), the engine
# lacks it (501), the runner failed (502) or did not answer in time (504).
_ACT = (400, 403, 404, 409, 501, 502, 504)
_MEDIA = (413, 422)  # the media is too large, or its URL is refused or cannot be fetched


def _stories() -> StoryService:
    return services().stories


def _status_id(value: str) -> str:
    if not is_status_id(value):
        message = "Not a status id (<true|false>_status@broadcast_<ID>_<poster>)"
        raise ValidationFailed(message, details={"fields": {"statusId": [message]}})
    return value


@blp.route("/<session_id>/status")
class Statuses(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.StatusListSchema)
    @blp.errors(404)
    def get(self, session_id: str) -> dict[str, Any]:
        """The stories the session's contacts posted, while they live (24 h), oldest first."""
        return _stories().received(session_id)


@blp.route("/<session_id>/status/<status_ref:ref>")
class StatusItem(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.StatusListSchema)
    @blp.errors(*_READ)
    def get(self, session_id: str, ref: str) -> dict[str, Any]:
        """The live stories of one contact (`ref`: the contact's id)."""
        return _stories().received(session_id, path_chat_id(ref, "contactId"))

    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT, 405)
    def delete(self, session_id: str, ref: str) -> dict[str, Any]:
        """Delete one of the account's own stories (`ref`: its status id); its contacts no longer see it."""
        return _stories().delete(session_id, _status_id(ref))


@blp.route("/<session_id>/status/<status_id>/media")
class StatusMedia(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream")
    @blp.errors(400, 404)
    def get(self, session_id: str, status_id: str) -> Response:
        """A received story's stored media bytes (404 when the story has none, or has expired)."""
        data, mimetype = _stories().media(session_id, _status_id(status_id))
        return Response(data, mimetype=mimetype)


Poster = Callable[[StoryService, str, dict[str, Any]], dict[str, Any]]


def _post_route(path: str, schema: type, media: tuple[int, ...], post: Poster, doc: str) -> None:
    """Register `POST /<session_id>/status/<path>`: `post(service, session_id, body)` answers it (201)."""

    class Post(MethodView):
        @requires(Role.OPERATOR)
        @blp.arguments(schema())
        @blp.response(201, schemas.StatusResultSchema)
        @blp.errors(*_ACT, *media, body=True)
        def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
            return post(_stories(), session_id, body)

    Post.post.__doc__ = doc
    Post.__name__ = "Status" + "".join(part.title() for part in path.split("-"))
    blp.route(f"/<session_id>/status/{path}", endpoint=f"status_{path.replace('-', '_')}")(Post)


_post_route(
    "send-text",
    schemas.SendTextStatusSchema,
    (),
    lambda service, sid, body: service.post_text(sid, body),
    "Post a text story (`backgroundColor`, `font`).",
)


def _post_media(
    kind: str, field: str, service: StoryService, session_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """A media story: the media under `field` (image, video, audio), with the body's caption."""
    return service.post_media(session_id, kind, {**body[field], "caption": body.get("caption")})


for _kind, _path, _field, _schema in (
    ("image", "send-image", "image", schemas.SendImageStatusSchema),
    ("video", "send-video", "video", schemas.SendVideoStatusSchema),
    ("voice", "send-voice", "audio", schemas.SendVoiceStatusSchema),
):
    _post_route(
        _path,
        _schema,
        _MEDIA,
        partial(_post_media, _kind, _field),
        f"Post a{'n' if _kind == 'image' else ''} {_kind} story (`{_field}`: url or base64).",
    )
