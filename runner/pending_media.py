"""Inbound media that could not be stored (storage down): the message is recorded and announced at once,
its media stored later.

A received message never waits for storage and is never lost to it. When storing its media fails with
StorageUnavailable, the inbox records the message with `metadata.media.pending: true` and no `mediaPath`,
announces it (`message.received`, media `url: null, pending: true`), and hands the media to this keeper,
which also adds the id to the session's pending-media set in Redis. The keeper stores it with retries
(backoff from `FIRST_RETRY_SECONDS` to `MAX_RETRY_SECONDS`): from the bytes already downloaded while they
fit in `MEMORY_BUDGET_BYTES`, else downloaded from the page again (which keeps a message's media as long
as it keeps the message). Once stored, the record gets its `mediaPath` and `message.media_ready`
`{messageId, chatId, media: {url, mimetype, filename, sizeBytes}}` is published. A process that ends with
media pending leaves the set behind; the next process of the session takes it over once the page is
ready (`resume`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from functions.core.errors import StorageUnavailable
from functions.services.messages import media_key
from functions.state.messages import MessageRepository
from functions.storage import BlobStorage
from runner.engines.base import Engine, EngineError

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
MEMORY_BUDGET_BYTES = 256 * 1024 * 1024
Publish = Callable[[str, dict[str, Any]], None]


@dataclass
class _Pending:
    message_id: str
    chat_id: str | None
    mimetype: str | None
    filename: str | None
    data: bytes | None  # None: download it from the page again


class PendingMedia:
    """One session's media waiting for storage. `add` from the inbox; `run` is the session's retry task."""

    def __init__(
        self,
        session_id: str,
        repo: MessageRepository,
        storage: BlobStorage,
        engine: Engine,
        publish: Publish,
        *,
        memory_budget: int = MEMORY_BUDGET_BYTES,
    ) -> None:
        self._session_id, self._repo, self._storage, self._engine = session_id, repo, storage, engine
        self._publish = publish
        self._budget = memory_budget
        self._held_bytes = 0
        self._items: dict[str, _Pending] = {}
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    async def add(
        self, message_id: str, chat_id: str | None, mimetype: str | None, filename: str | None, data: bytes
    ) -> None:
        """Keep the media of `message_id` to store later (its bytes while they fit the memory budget)."""
        keep = data if self._held_bytes + len(data) <= self._budget else None
        self._held_bytes += len(keep or b"")
        self._items[message_id] = _Pending(message_id, chat_id, mimetype, filename, keep)
        await asyncio.to_thread(self._repo.mark_media_pending, self._session_id, message_id)
        self._wake.set()

    async def resume(self) -> None:
        """Take over media left pending by an earlier process of this session (downloaded from the page)."""
        for message_id in await asyncio.to_thread(self._repo.media_pending, self._session_id):
            if message_id in self._items:
                continue
            record = await asyncio.to_thread(self._repo.get, self._session_id, message_id)
            if record is None:  # expired or deleted meanwhile: nothing to store it for
                await asyncio.to_thread(self._repo.forget_media_pending, self._session_id, message_id)
                continue
            media = (record.get("metadata") or {}).get("media") or {}
            self._items[message_id] = _Pending(
                message_id, record.get("chatId"), media.get("mimetype"), media.get("filename"), None
            )
        if self._items:
            self._wake.set()

    async def run(self, ready: Callable[[], bool]) -> None:
        """Store what is pending until cancelled; `ready()` says whether the page can be asked for media.
        Storage down (or the page not answering) ends a round; the next comes after a growing pause."""
        delay = FIRST_RETRY_SECONDS
        while True:
            await self._wake.wait()
            self._wake.clear()
            for item in list(self._items.values()):
                if item.data is None and not ready():
                    continue
                try:
                    await self._store(item)
                except (StorageUnavailable, EngineError) as exc:
                    log.info("session %s: media of %s pending: %s", self._session_id, item.message_id, exc)
                    break
                except Exception:  # this item only: the others are still tried
                    log.exception("session %s: media of %s not stored", self._session_id, item.message_id)
                else:
                    delay = FIRST_RETRY_SECONDS
            if self._items:
                self._wake.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def _store(self, item: _Pending) -> None:
        data, mimetype = item.data, item.mimetype
        if data is None:
            blob = await self._engine.download_media(item.message_id)
            data, mimetype = blob.data, mimetype or blob.mimetype
        mimetype = mimetype or "application/octet-stream"
        key = media_key(self._session_id, item.message_id)
        await asyncio.to_thread(self._storage.put, key, data, content_type=mimetype)
        url = await asyncio.to_thread(self._storage.signed_url, key)
        record = await asyncio.to_thread(self._repo.get, self._session_id, item.message_id)
        fields: dict[str, Any] = {"mediaPath": key, "mediaMimetype": mimetype}
        if record is not None:
            metadata = dict(record.get("metadata") or {})
            size = {"sizeBytes": len(data), "size": len(data)}
            metadata["media"] = {**(metadata.get("media") or {}), **size, "pending": False}
            fields["metadata"] = metadata
        await asyncio.to_thread(self._repo.media_stored, self._session_id, item.message_id, **fields)
        self._items.pop(item.message_id, None)
        self._held_bytes -= len(item.data or b"")
        if record is None:
            return
        media = {"url": url, "mimetype": mimetype, "filename": item.filename, "sizeBytes": len(data)}
        event = {"messageId": item.message_id, "chatId": item.chat_id, "media": media}
        await asyncio.to_thread(self._publish, "message.media_ready", event)
