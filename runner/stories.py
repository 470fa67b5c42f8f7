"""Stories the session's contacts post become stored stories before `status.received` is published.

Called by the reporter for every `status.received` event. A story is kept as long as WhatsApp shows it
(until its `expiresAt`, `functions.state.stories`), its media downloaded from the page and stored under
`functions.core.stories.story_media_key`, served by `GET .../status/<statusId>/media`. WhatsApp Web
announces a story again after a reload: `record` answers None for one already stored, so it is announced
once. Media that cannot be kept (too large, not downloadable, storage down) is recorded as omitted with the
reason, as upstream's `mediaOmitted`/`omitReason`; the story itself is never dropped for it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from functions.core.errors import StorageUnavailable
from functions.core.stories import story_media_key
from functions.state.stories import StoryRepository
from functions.storage import BlobStorage
from runner.engines.base import Engine, EngineError

log = logging.getLogger(__name__)


class StoryInbox:
    """Records one session's received stories (async: blocking I/O goes to threads)."""

    def __init__(
        self,
        session_id: str,
        repo: StoryRepository,
        storage: BlobStorage,
        engine: Engine,
        *,
        max_media_bytes: int,
    ) -> None:
        self._session_id, self._repo, self._storage, self._engine = session_id, repo, storage, engine
        self._max_media_bytes = max_media_bytes

    async def record(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """The event to publish for `data` (its media outcome filled in), or None when already stored."""
        status_id = str(data.get("statusId") or "")
        if not status_id:
            return None
        if await asyncio.to_thread(self._repo.get, self._session_id, status_id) is not None:
            return None
        media: dict[str, Any] = {}
        if data.get("hasMedia"):
            media = await self._store_media(status_id, data)
        record = {
            "id": status_id,
            "contact": data.get("contact") or {},
            "type": data.get("type") or "text",
            "caption": data.get("caption"),
            "backgroundColor": data.get("backgroundColor"),
            "font": data.get("font"),
            "postedAt": int(data["postedAt"]),
            "expiresAt": int(data["expiresAt"]),
            "mediaKey": media.get("key"),
            "mediaMimetype": media.get("mimetype"),
            "mediaOmitted": bool(media.get("omitReason")),
            "omitReason": media.get("omitReason"),
        }
        if not await asyncio.to_thread(self._repo.add, self._session_id, record):
            return None
        event = {**data, "mediaOmitted": record["mediaOmitted"]}
        event.pop("omitReason", None)
        if record["omitReason"]:
            event["omitReason"] = record["omitReason"]
        return event

    async def _store_media(self, status_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """`{key, mimetype}` of the stored media, or `{omitReason}` when it could not be kept."""
        try:
            blob = await self._engine.download_media(status_id)
        except EngineError as exc:
            log.warning("session %s: story %s media not downloaded: %s", self._session_id, status_id, exc)
            return {"omitReason": "download_failed"}
        if len(blob.data) > self._max_media_bytes:
            return {"omitReason": "too_large"}
        key = story_media_key(self._session_id, status_id)
        mimetype = blob.mimetype or "application/octet-stream"
        try:
            await asyncio.to_thread(self._storage.put, key, blob.data, content_type=mimetype)
        except StorageUnavailable as exc:
            log.warning("session %s: story %s media not stored: %s", self._session_id, status_id, exc)
            return {"omitReason": "storage_unavailable"}
        return {"key": key, "mimetype": mimetype}
