"""WhatsApp Channels, i.e. newsletters (the `openwa` SDK's `channels` resource; upstream's channel
controller).

Asked of the session's engine at once (see `functions.services.session_engine`). The account follows
channels by invite code and leaves them (DELETE); it creates its own, which it alone can delete (POST
`/delete`: every follower loses it). A channel it neither follows nor owns is 404 CHANNEL_NOT_FOUND; an
invite code no channel has is 404 CHANNEL_INVITE_INVALID. Demoting an admin and transferring ownership are
501 ENGINE_NOT_SUPPORTED on the webjs engine (wa-js has neither). Ids arrive validated
(`functions.core.channels`).
"""

from __future__ import annotations

from typing import Any

from functions.core.chats import Capability
from functions.services.session_engine import SessionEngine


class ChannelService:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def all(self, session_id: str) -> list[dict[str, Any]]:
        return list(self._engine.call(session_id, Capability.CHANNELS) or [])

    def get(self, session_id: str, channel_id: str) -> dict[str, Any]:
        return dict(self._engine.call(session_id, Capability.CHANNEL, channel_id))

    def messages(self, session_id: str, channel_id: str, limit: int) -> list[dict[str, Any]]:
        """The channel's last `limit` posts, oldest first."""
        return list(self._engine.call(session_id, Capability.CHANNEL_MESSAGES, channel_id, limit) or [])

    def create(self, session_id: str, name: str, description: str | None) -> dict[str, Any]:
        return dict(self._engine.call(session_id, Capability.CHANNEL_CREATE, name, description))

    def delete(self, session_id: str, channel_id: str) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.CHANNEL_DELETE, channel_id))
        return {
            "success": done,
            "message": "Channel deleted" if done else "WhatsApp did not delete the channel",
        }

    def mute(self, session_id: str, channel_id: str, mute: bool) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.CHANNEL_MUTE, channel_id, mute))
        return {"success": done, "message": f"Channel {'muted' if mute else 'unmuted'}"}

    def subscribe(self, session_id: str, code: str) -> dict[str, Any]:
        return dict(self._engine.call(session_id, Capability.CHANNEL_SUBSCRIBE, code))

    def unsubscribe(self, session_id: str, channel_id: str) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.CHANNEL_UNSUBSCRIBE, channel_id))
        return {"success": done, "message": "Unsubscribed" if done else "WhatsApp did not confirm"}

    def demote_admin(self, session_id: str, channel_id: str, user_id: str) -> dict[str, Any]:
        return {
            "success": bool(self._engine.call(session_id, Capability.CHANNEL_DEMOTE, channel_id, user_id))
        }

    def transfer(self, session_id: str, channel_id: str, new_owner: str) -> dict[str, Any]:
        done = self._engine.call(session_id, Capability.CHANNEL_TRANSFER, channel_id, new_owner)
        return {"success": bool(done)}
