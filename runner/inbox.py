"""Message events from the engine become message records before they are published.

Called by the reporter for every `message.*` event, in the order the page sent them (one consumer task).
`record` returns the event data to publish, possibly enriched (a stored media's signed URL), or None to
publish nothing — a message WhatsApp Web re-announces (after a reload or reconnect) is recorded once and
announced once; an ack that does not move a message forward is not announced again.

Inbound media is downloaded from the page and stored under `media/<sessionId>/<messageId>`; events and
records carry a signed, expiring URL, mimetype, filename and size, never the bytes. A message never waits
for storage: while storage is down it is recorded and announced with its media `pending` (no URL yet), and
`runner.pending_media` stores the media later and announces `message.media_ready`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from functions.core.clock import iso, utcnow
from functions.core.errors import StorageUnavailable
from functions.core.messages import STATUS_RANK, Direction, MessageStatus, status_for_ack
from functions.services.messages import media_key
from functions.state.messages import MessageRepository
from functions.storage import BlobStorage
from runner.engines.base import Engine, EngineError
from runner.pending_media import PendingMedia

log = logging.getLogger(__name__)
StoredHook = Callable[[str, dict[str, Any]], None]


class Inbox:
    """Records one session's message events (async: blocking I/O goes to threads)."""

    def __init__(
        self,
        session_id: str,
        repo: MessageRepository,
        storage: BlobStorage,
        engine: Engine,
        *,
        max_media_bytes: int,
        on_recorded: StoredHook | None = None,
        on_failed: Callable[[], None] | None = None,
        pending: PendingMedia | None = None,
    ) -> None:
        self._session_id, self._repo, self._storage, self._engine = session_id, repo, storage, engine
        self._max_media_bytes = max_media_bytes
        self._pending = pending  # media to store once storage is back
        self._on_recorded = on_recorded  # (direction, record) for counters and metrics
        self._on_failed = on_failed  # WhatsApp rejected an own message (ack -1)

    async def record(self, name: str, data: dict[str, Any]) -> dict[str, Any] | None:
        handler = {
            "message.received": self._received,
            "message.sent": self._sent_elsewhere,
            "message.ack": self._ack,
            "message.revoked": self._revoked,
            "message.edited": self._edited,
            "message.reaction": self._reaction,
        }.get(name)
        return await handler(data) if handler else data

    async def _known(self, message_id: str) -> str | None:
        """The id of our record of WhatsApp's `message_id` (matched by its bare id as well: WhatsApp may
        report a message under an `@lid` remote, or a group key with a participant), or None."""
        return await asyncio.to_thread(self._repo.resolve, self._session_id, message_id)

    async def _record_id(self, message_id: str) -> str:
        """The id of our record of WhatsApp's `message_id`, or `message_id` itself when we have none."""
        return await self._known(message_id) or message_id

    async def _received(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if await self._known(data["id"]) is not None:
            return None
        unstored: bytes | None = None
        if data.get("hasMedia"):
            data, unstored = await self._store_media(data)
        record = self._record(data, Direction.INCOMING, MessageStatus.DELIVERED)
        if not await asyncio.to_thread(self._repo.create_if_absent, record):
            return None
        if unstored is not None and self._pending is not None:
            media = data["media"]
            await self._pending.add(
                data["id"], record["chatId"], media.get("mimetype"), media.get("filename"), unstored
            )
        self._recorded(Direction.INCOMING, record)
        if isinstance(data.get("media"), dict):  # the storage key is ours, not the customer's
            data = {**data, "media": {k: v for k, v in data["media"].items() if k != "key"}}
        return data

    async def _sent_elsewhere(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """An own message: one we sent through the API (its job announces it, and its record has our id,
        not the key WhatsApp reports it under) or one sent from the phone."""
        if await self._known(data["id"]) is not None:
            return None
        ack = int(data.get("ack") or 1)
        status = (  # ack -1: WhatsApp refused it, and it must never read as sent
            MessageStatus.FAILED
            if ack < 0
            else max(MessageStatus.SENT, status_for_ack(ack), key=STATUS_RANK.__getitem__)
        )
        record = self._record(data, Direction.OUTGOING, status)
        if not await asyncio.to_thread(self._repo.create_if_absent, record):
            return None
        self._recorded(Direction.OUTGOING, record)
        return data

    async def _ack(self, data: dict[str, Any]) -> dict[str, Any] | None:
        ack = int(data.get("ack") or 0)
        status = status_for_ack(ack)
        fields: dict[str, Any] = {"ack": ack}
        if status is MessageStatus.FAILED:
            fields["error"] = {
                "code": "WHATSAPP_ACK_ERROR",
                "message": "WhatsApp reported the message failed",
            }
        record_id = await self._record_id(data["id"])
        moved = await asyncio.to_thread(self._repo.advance, self._session_id, record_id, status, **fields)
        if moved == 1 and status is MessageStatus.FAILED and self._on_failed is not None:
            self._on_failed()
        return _under(data, record_id, "id", "messageId") if moved != 0 else None

    async def _revoked(self, data: dict[str, Any]) -> dict[str, Any]:
        revoked = data.get("revokedId")
        if revoked:
            record_id = await self._record_id(revoked)
            changes = {"type": "revoked", "body": "", "revokedAt": iso(utcnow())}
            await asyncio.to_thread(self._repo.update, self._session_id, record_id, **changes)
            return _under(data, record_id, "revokedId")
        return data

    async def _edited(self, data: dict[str, Any]) -> dict[str, Any]:
        message_id = data.get("messageId")
        if message_id:
            record_id = await self._record_id(message_id)
            changes = {"body": data.get("body", ""), "editedAt": iso(utcnow())}
            await asyncio.to_thread(self._repo.update, self._session_id, record_id, **changes)
            return _under(data, record_id, "messageId")
        return data

    async def _reaction(self, data: dict[str, Any]) -> dict[str, Any]:
        message_id = data.get("messageId")
        if message_id:
            record_id = await self._record_id(message_id)
            await asyncio.to_thread(self._set_reaction, record_id, data)
            return _under(data, record_id, "messageId")
        return data

    def _set_reaction(self, message_id: str, data: dict[str, Any]) -> None:
        record = self._repo.get(self._session_id, message_id)
        if record is None:
            return
        reactions = dict(record.get("reactions") or {})
        sender = str(data.get("senderId") or "")
        if data.get("reaction"):
            reactions[sender] = {"emoji": data["reaction"], "timestamp": data.get("timestamp")}
        else:
            reactions.pop(sender, None)
        self._repo.update(self._session_id, message_id, reactions=reactions)

    async def _store_media(self, data: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
        """`data` with its media stored (its URL), or omitted (too large, not downloadable); and the bytes
        when storage was down (the media is then `pending`, for `runner.pending_media` to store)."""
        media = dict(data.get("media") or {})
        size = int(media.get("sizeBytes") or 0)
        if size > self._max_media_bytes:
            return {**data, "media": {**media, "omitted": True, "omitReason": "too_large"}}, None
        try:
            blob = await self._engine.download_media(data["id"])
        except EngineError as exc:
            log.warning("session %s: media of %s not downloaded: %s", self._session_id, data["id"], exc)
            return {**data, "media": {**media, "omitted": True, "omitReason": "download_failed"}}, None
        key = media_key(self._session_id, data["id"])
        mimetype = media.get("mimetype") or blob.mimetype or "application/octet-stream"
        media.update(mimetype=mimetype, sizeBytes=len(blob.data))
        try:
            await asyncio.to_thread(self._storage.put, key, blob.data, content_type=mimetype)
        except StorageUnavailable as exc:
            log.warning(
                "session %s: media of %s pending (storage down): %s", self._session_id, data["id"], exc
            )
            return {**data, "media": {**media, "url": None, "pending": True}}, blob.data
        url = await asyncio.to_thread(self._storage.signed_url, key)
        return {**data, "media": {**media, "url": url, "key": key}}, None

    def _record(self, data: dict[str, Any], direction: Direction, status: MessageStatus) -> dict[str, Any]:
        now = iso(utcnow())
        media = data.get("media") or {}
        metadata = {
            name: data[name]
            for name in (
                "caption",
                "location",
                "vcards",
                "poll",
                "quotedMessageId",
                "mentionedIds",
                "contact",
            )
            if data.get(name)
        }
        if media:
            metadata["media"] = {
                k: media.get(k) for k in ("mimetype", "filename", "sizeBytes", "omitted", "pending")
            }
            metadata["media"]["size"] = media.get("sizeBytes")
        return {
            "id": data["id"],
            "waMessageId": data.get("waMessageId") or data["id"],
            "sessionId": self._session_id,
            "chatId": data.get("chatId") or (data["to"] if direction is Direction.OUTGOING else data["from"]),
            "chatLid": data.get("chatLid"),
            "from": data.get("author") or data.get("from"),
            "to": data.get("to"),
            "body": data.get("body") or "",
            "type": data.get("type") or "text",
            "direction": direction.value,
            "fromMe": direction is Direction.OUTGOING,
            "isGroup": bool(data.get("isGroup")),
            "timestamp": int(data.get("timestamp") or 0) or int(utcnow().timestamp()),
            "status": status.value,
            "ack": int(data.get("ack") or 0),
            "hasMedia": bool(data.get("hasMedia")),
            "mediaPath": media.get("key"),
            "mediaMimetype": media.get("mimetype"),
            "metadata": metadata or None,
            "error": None,
            "createdAt": now,
            "updatedAt": now,
        }

    def _recorded(self, direction: Direction, record: dict[str, Any]) -> None:
        if self._on_recorded is not None:
            try:
                self._on_recorded(direction.value, record)
            except Exception:  # counters must never stop the event flow
                log.exception("message counter hook failed")


def _under(data: dict[str, Any], record_id: str, *fields: str) -> dict[str, Any]:
    """`data` naming its message by our record's id (the id SDK users hold), WhatsApp's own key kept as
    `waMessageId` when it differs."""
    wa_id = data.get(fields[0])
    if not wa_id or wa_id == record_id:
        return data
    return {**data, **dict.fromkeys(fields, record_id), "waMessageId": data.get("waMessageId") or wa_id}
