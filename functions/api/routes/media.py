"""`/api/sessions/<id>/media/convert`: server-side conversion into what WhatsApp plays (upstream's media
conversion, `reference/openwa.md` §2.4; the `openwa` SDK's `media` resource). Any key asks whether it is
available; an operator converts. See `functions.services.media_conversion`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.examples import request_example
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.media import ConversionAvailabilitySchema, ConvertedMediaSchema, ConvertMediaSchema
from functions.services.media_conversion import MediaConversionService

blp = Blueprint("media", __name__, url_prefix="/api/sessions", description="Media conversion")


def _media() -> MediaConversionService:
    return services().media_conversion


@blp.route("/<session_id>/media/convert")
class ConversionStatus(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, ConversionAvailabilitySchema)
    @blp.errors(404)
    def get(self, session_id: str) -> dict[str, bool]:
        """Whether conversion is switched on here (MEDIA_CONVERSION_ENABLED) and ffmpeg can be run."""
        return _media().status(session_id)


@blp.route("/<session_id>/media/convert/voice")
class ConvertVoice(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(ConvertMediaSchema())
    @blp.response(200, ConvertedMediaSchema)
    @blp.errors(404, 422, body=True)  # 422: unreadable or unconvertible media; 503: conversion off
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Audio as a WhatsApp voice note: Ogg/Opus, mono, tuned for speech (send it with send-audio and
        `ptt: true`)."""
        return _media().convert(session_id, "voice", body)


@blp.route("/<session_id>/media/convert/video")
class ConvertVideo(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(ConvertMediaSchema(), example=request_example(ConvertMediaSchema, "convert-video"))
    @blp.response(200, ConvertedMediaSchema)
    @blp.errors(404, 422, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Video as an MP4 every WhatsApp client plays: baseline H.264 with AAC audio, inside 1280x720
        (720x1280 portrait), index first."""
        return _media().convert(session_id, "video", body)
