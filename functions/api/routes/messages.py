"""`/api/sessions/<id>/messages`: every send kind (201 `{messageId, timestamp}` at once), stored records and
their media. Sends are queued for the session's process (DESIGN §1.2); see `functions.services.messages`."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from flask import Response, request, send_file
from flask.views import MethodView

from functions.api.auth import requires
from functions.api.examples import request_example
from functions.api.openapi import Blueprint
from functions.api.render import download_name
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.messages import (
    ForwardSchema,
    ListMessagesQuerySchema,
    MessageAcceptedSchema,
    MessageListSchema,
    MessageRecordSchema,
    ReplySchema,
    SendAudioSchema,
    SendContactSchema,
    SendLocationSchema,
    SendMediaSchema,
    SendPollSchema,
    SendTextSchema,
)
from functions.services.messages import MediaSource, SendRequest, fingerprint
from functions.state.messages import to_wire

blp = Blueprint("messages", __name__, url_prefix="/api/sessions", description="Send and read messages")

IDEMPOTENCY_HEADER = "Idempotency-Key"
_SEND_ERRORS = (404, 409, 413, 422)
Builder = Callable[[dict[str, Any]], tuple[str, dict[str, Any], MediaSource | None]]


def _common(body: dict[str, Any]) -> dict[str, Any]:
    """Fields every content kind may carry, without empty values."""
    picked = {name: body.get(name) for name in ("quotedMessageId", "mentions", "caption", "linkPreview")}
    return {name: value for name, value in picked.items() if value not in (None, [])}


def _text(body: dict[str, Any]) -> tuple[str, dict[str, Any], MediaSource | None]:
    return body["chatId"], {"kind": "text", "text": body["text"], **_common(body)}, None


def _media(kind: str) -> Builder:
    def build(body: dict[str, Any]) -> tuple[str, dict[str, Any], MediaSource | None]:
        actual = "ptt" if kind == "audio" and body.get("ptt") else kind
        source = MediaSource(body.get("url"), body.get("base64"), body.get("mimetype"), body.get("filename"))
        return body["chatId"], {"kind": actual, **_common(body)}, source

    return build


def _location(body: dict[str, Any]) -> tuple[str, dict[str, Any], MediaSource | None]:
    location = {k: body[k] for k in ("latitude", "longitude", "description", "address") if k in body}
    return body["chatId"], {"kind": "location", "location": location, **_common(body)}, None


def _contact(body: dict[str, Any]) -> tuple[str, dict[str, Any], MediaSource | None]:
    number = "".join(ch for ch in body["contactNumber"] if ch.isdigit())
    contact = {"name": body["contactName"], "number": number}
    return body["chatId"], {"kind": "contact", "contact": contact, **_common(body)}, None


def _poll(body: dict[str, Any]) -> tuple[str, dict[str, Any], MediaSource | None]:
    poll = {
        "name": body["name"],
        "options": body["options"],
        "selectableCount": 0 if body["allowMultipleAnswers"] else 1,
    }
    return body["chatId"], {"kind": "poll", "poll": poll, **_common(body)}, None


def _forward(body: dict[str, Any]) -> tuple[str, dict[str, Any], MediaSource | None]:
    content = {"kind": "forward", "forwardId": body["messageId"], "fromChatId": body["fromChatId"]}
    return body["toChatId"], content, None


def _accept(route: str, body: dict[str, Any], session_id: str, build: Builder) -> dict[str, Any]:
    chat_id, content, media = build(body)
    send = SendRequest(
        session_id=session_id,
        chat_id=chat_id,
        content=content,
        fingerprint=fingerprint(route, body),
        idempotency_key=request.headers.get(IDEMPOTENCY_HEADER) or None,
        media=media,
        queue=bool(body.get("queue")),
        send_at=body.get("sendAt"),
    )
    return services().messages.send(send)


def _send_route(name: str, schema: type, build: Builder, summary: str) -> None:
    """Register `POST /<session_id>/messages/<name>`."""

    class Send(MethodView):
        @requires(Role.OPERATOR)
        @blp.arguments(schema(), example=request_example(schema, name))
        @blp.response(201, MessageAcceptedSchema)
        @blp.errors(*_SEND_ERRORS, body=True)
        def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
            return _accept(name, body, session_id, build)

    Send.post.__doc__ = (
        f"{summary}\n\nAnswers at once; the session's process sends it. Send `{IDEMPOTENCY_HEADER}` to make "
        "a retry return the first answer (24 h)."
    )
    Send.__name__ = "Send" + "".join(part.title() for part in name.split("-"))
    blp.route(f"/<session_id>/messages/{name}", endpoint=f"messages_{name.replace('-', '_')}")(Send)


_send_route("send-text", SendTextSchema, _text, "Send a text (mentions, link preview, quoted reply).")
_send_route("reply", ReplySchema, _text, "Reply to a message with a quoted text.")
_send_route("send-image", SendMediaSchema, _media("image"), "Send an image (url or base64).")
_send_route("send-video", SendMediaSchema, _media("video"), "Send a video (url or base64).")
_send_route(
    "send-audio",
    SendAudioSchema,
    _media("audio"),
    "Send audio, or a voice note with `ptt` (made Ogg/Opus first when media conversion is on).",
)
_send_route("send-document", SendMediaSchema, _media("document"), "Send a document (url or base64).")
_send_route(
    "send-sticker",
    SendMediaSchema,
    _media("sticker"),
    "Send a sticker (WebP; a PNG or JPEG becomes a 512x512 WebP).",
)
_send_route("send-location", SendLocationSchema, _location, "Send a location pin.")
_send_route("send-contact", SendContactSchema, _contact, "Send a contact card (vCard).")
_send_route("send-poll", SendPollSchema, _poll, "Send a poll (2 to 12 options).")
_send_route("forward", ForwardSchema, _forward, "Forward a message to another chat.")


def with_media_url(record: dict[str, Any]) -> dict[str, Any]:
    """The record on the wire, with a signed, expiring URL to its stored media (never the bytes)."""
    wire = to_wire(record)
    key = record.get("mediaPath")
    if key:
        info = (record.get("metadata") or {}).get("media") or {}
        wire["media"] = {
            "url": services().storage.signed_url(str(key)),
            "mimetype": record.get("mediaMimetype"),
            "filename": info.get("filename"),
            "size": info.get("size"),
        }
    return wire


@blp.route("/<session_id>/messages")
class Messages(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(ListMessagesQuerySchema(), location="query")
    @blp.response(200, MessageListSchema)
    @blp.errors(400, 404)
    def get(self, query: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Stored messages, newest first (filters `chatId`, `from`; `limit` ≤ 100, `offset`)."""
        page = services().messages.page(
            session_id,
            chat_id=query.get("chatId"),
            sender=query.get("from_"),
            limit=query["limit"],
            offset=query["offset"],
        )
        return {"messages": [with_media_url(r) for r in page.messages], "total": page.total}


@blp.route("/<session_id>/messages/<chat_id>/<message_id>")
class MessageItem(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, MessageRecordSchema)
    @blp.errors(404)
    def get(self, session_id: str, chat_id: str, message_id: str) -> dict[str, Any]:
        """One stored message with its status (`pending` → `sent` → `delivered` → `read`, or `failed`)."""
        return with_media_url(services().messages.get(session_id, message_id, chat_id=chat_id))


@blp.route("/<session_id>/messages/<chat_id>/<message_id>/media")
class MessageMedia(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream")
    @blp.errors(404)
    def get(self, session_id: str, chat_id: str, message_id: str) -> Response:
        """The stored media bytes of a message, as an attachment."""
        data, mimetype, filename = services().messages.media(session_id, chat_id, message_id)
        name = download_name(filename)
        if name is None:
            response = Response(data, mimetype=mimetype)
            response.headers["Content-Disposition"] = "attachment"
            return response
        return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name, etag=False)
