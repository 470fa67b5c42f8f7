"""Stories (WhatsApp "Status"): post the account's own, read the ones its contacts posted (the `openwa`
SDK's `status` resource, upstream's status controller).

Posting and deleting ask the session's engine at once (`functions.services.session_engine`: 404 no session,
409 not ready); the answer is upstream's StatusResult `{statusId, timestamp, expiresAt}` (ISO-8601, a story
lives 24 h). Media goes through the media guard first (url or base64, size cap, SSRF guard, sniffing) and
must be of the story's kind. Received stories are read from the store the session's process fills
(`runner.stories`, `functions.state.stories`): only while they live, and whatever the session's state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from functions.config import Settings
from functions.core.chats import Capability
from functions.core.clock import iso
from functions.core.stories import STORY_LIFETIME_MS, StatusMediaNotFound, StatusNotFound
from functions.services import pictures
from functions.services.media import MediaLimits
from functions.services.session_engine import SessionEngine
from functions.state.stories import StoryRepository
from functions.storage import BlobStorage

# The story kind -> the media type it must be and how the error names it.
_MEDIA_KINDS = {
    "image": ("image", "an image status"),
    "video": ("video", "a video status"),
    "voice": ("audio", "a voice status"),
}


def _iso_ms(epoch_ms: int) -> str:
    return iso(datetime.fromtimestamp(epoch_ms / 1000, UTC)) or ""


def story_to_wire(record: Mapping[str, Any], media_url: str | None) -> dict[str, Any]:
    """A stored story as the SDK's StatusRecord (ISO times; `mediaUrl` a signed, expiring URL)."""
    wire: dict[str, Any] = {
        "id": record["id"],
        "contact": record.get("contact") or {},
        "type": record.get("type") or "text",
        "timestamp": _iso_ms(int(record.get("postedAt") or 0)),
        "expiresAt": _iso_ms(int(record.get("expiresAt") or 0)),
        "hasMedia": bool(record.get("mediaKey")) or bool(record.get("mediaOmitted")),
        "mediaOmitted": bool(record.get("mediaOmitted")),
    }
    for name in ("caption", "backgroundColor", "font", "omitReason"):
        if record.get(name) is not None:
            wire[name] = record[name]
    if media_url:
        wire["mediaUrl"] = media_url
    return wire


class StoryService:
    def __init__(
        self,
        engine: SessionEngine,
        repo: StoryRepository,
        storage: Callable[[], BlobStorage],
        settings: Settings,
    ) -> None:
        self._engine, self._repo, self._storage = engine, repo, storage
        self._limits = MediaLimits.from_settings(settings)

    def received(self, session_id: str, contact_id: str | None = None) -> dict[str, Any]:
        """`{statuses: StatusRecord[]}`: the live stories the session received (`contact_id`'s only)."""
        self._engine.session(session_id)
        records = self._repo.live(session_id, contact_id)
        return {"statuses": [story_to_wire(r, self._media_url(r)) for r in records]}

    def _media_url(self, record: Mapping[str, Any]) -> str | None:
        key = record.get("mediaKey")
        return self._storage().signed_url(str(key)) if key else None

    def media(self, session_id: str, status_id: str) -> tuple[bytes, str]:
        """A received story's stored media bytes and type: StatusNotFound when the story is not stored
        (or expired), StatusMediaNotFound when it has no stored media."""
        self._engine.session(session_id)
        record = self._repo.get(session_id, status_id)
        if record is None:
            raise StatusNotFound(details={"statusId": status_id})
        if not record.get("mediaKey"):
            raise StatusMediaNotFound(details={"statusId": status_id})
        data = self._storage().get(str(record["mediaKey"]))
        return data, str(record.get("mediaMimetype") or "application/octet-stream")

    def post_text(self, session_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        background, font = body.get("backgroundColor"), body.get("font")
        posted = self._engine.call(session_id, Capability.STATUS_TEXT, body["text"], background, font)
        return _result(posted)

    def post_media(self, session_id: str, kind: str, source: Mapping[str, Any]) -> dict[str, Any]:
        """Post an image, video or voice story from `source` (`url` or `base64`, + `mimetype`, `caption`)."""
        self._engine.ready(session_id)  # before downloading anything for a session that cannot use it
        major, what = _MEDIA_KINDS[kind]
        data_url = pictures.typed_data_url(source, self._limits, major, what)
        caption = source.get("caption")
        return _result(self._engine.call(session_id, Capability.STATUS_MEDIA, kind, data_url, caption))

    def delete(self, session_id: str, status_id: str) -> dict[str, Any]:
        """Delete one of the account's own stories (its contacts no longer see it)."""
        self._engine.call(session_id, Capability.STATUS_REMOVE, status_id)
        return {"success": True, "message": "Status deleted successfully"}


def _result(posted: Mapping[str, Any]) -> dict[str, Any]:
    """Upstream's StatusResult from the engine's `{statusId, timestamp (epoch s)}`."""
    posted_ms = int(posted["timestamp"]) * 1000
    return {
        "statusId": str(posted["statusId"]),
        "timestamp": _iso_ms(posted_ms),
        "expiresAt": _iso_ms(posted_ms + STORY_LIFETIME_MS),
    }
