"""Media conversion: the convert routes (`/api/sessions/<id>/media/convert[/voice|/video]`, the `openwa` SDK's
`media` resource) and the conversions a send needs before WhatsApp can play it (`for_whatsapp`).

Conversions run in the request, bounded (`functions.services.transcode`: a timeout and an output cap; the
input is capped by the media guard), so a file that cannot be converted is a 422 MEDIA_CONVERSION_FAILED
before anything is stored or queued: nothing is sent.
"""

from __future__ import annotations

import base64
import posixpath
from collections.abc import Mapping
from typing import Any, Literal

from functions.config import Settings
from functions.services import media as media_files
from functions.services.sessions import require_session
from functions.services.stickers import CONVERTIBLE, to_sticker
from functions.services.transcode import Converted, MediaConversionUnavailable, Transcoder, is_ogg_opus
from functions.state.sessions import SessionRepository

Target = Literal["voice", "video"]
_EXTENSIONS = {"audio/ogg; codecs=opus": ".ogg", "image/webp": ".webp", "video/mp4": ".mp4"}


class MediaConversionService:
    def __init__(self, settings: Settings, sessions: SessionRepository) -> None:
        self._transcoder = Transcoder(settings)
        self._limits = media_files.MediaLimits.from_settings(settings)
        self._sessions = sessions

    def status(self, session_id: str) -> dict[str, bool]:
        """`{available}`: conversion is switched on and ffmpeg runs. SessionNotFound."""
        require_session(self._sessions, session_id)
        return {"available": self._transcoder.available()}

    def convert(self, session_id: str, target: Target, source: Mapping[str, Any]) -> dict[str, Any]:
        """The media of `source` (`url` or `base64`) as a voice note or a WhatsApp-safe MP4:
        `{base64, mimetype, bytes}`. SessionNotFound, MediaConversionUnavailable (503), the media guard's
        errors (400/413/422), MediaConversionFailed (422)."""
        require_session(self._sessions, session_id)
        if not self._transcoder.available():  # before any download
            raise MediaConversionUnavailable()
        file = _read(source, self._limits)
        convert = self._transcoder.voice if target == "voice" else self._transcoder.video
        converted = convert(file.data)
        return {
            "base64": base64.b64encode(converted.data).decode(),
            "mimetype": converted.mimetype,
            "bytes": len(converted.data),
        }


def _read(source: Mapping[str, Any], limits: media_files.MediaLimits) -> media_files.MediaFile:
    if source.get("base64") is not None:
        return media_files.from_base64(source["base64"], source.get("mimetype"), None, limits)
    return media_files.from_url(source["url"], source.get("mimetype"), None, limits)


def for_whatsapp(kind: str, file: media_files.MediaFile, transcoder: Transcoder) -> media_files.MediaFile:
    """`file` as WhatsApp needs it for a send of `kind`: a voice note (`ptt`) that is not Ogg/Opus is
    converted to it when conversion is available (without it, it is sent as given, as upstream does), and
    a PNG or JPEG sticker becomes a 512x512 WebP. Anything else is returned as it is.
    MediaConversionFailed (422)."""
    converted: Converted | None = None
    if kind == "ptt" and not is_ogg_opus(file.data) and transcoder.available():
        converted = transcoder.voice(file.data)
    elif kind == "sticker" and file.mimetype in CONVERTIBLE:
        converted = to_sticker(file.data)
    if converted is None:
        return file
    filename = _renamed(file.filename, converted.mimetype)
    return media_files.MediaFile(converted.data, converted.mimetype, filename)


def _renamed(filename: str | None, mimetype: str) -> str | None:
    """`filename` with the extension of what it now holds (`tone.mp3` -> `tone.ogg`)."""
    if not filename:
        return None
    stem, _ = posixpath.splitext(filename)
    return stem + _EXTENSIONS.get(mimetype, "")
