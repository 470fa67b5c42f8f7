"""Stories (WhatsApp "Status"): what a session posts and what its contacts post to it.

A story lives 24 hours on WhatsApp, so a received one is kept exactly that long (`functions.state.stories`,
upstream's `status_updates` table with its 24 h TTL) and its media with it in storage, under
`story_media_key`. Timestamps follow upstream: `status.received` and stored `postedAt`/`expiresAt` are epoch
milliseconds; the story routes answer ISO-8601 (`timestamp`, `expiresAt`).
"""

from __future__ import annotations

from functions.core.chats import chat_of_key
from functions.core.errors import NotFound

STORY_LIFETIME_MS = 24 * 3600 * 1000
# The text fonts the OpenWA SDK offers (`StatusFont`); wa-js renders 0-5 and falls back to 0 for the rest.
STORY_FONTS = (0, 1, 2, 6, 7, 8, 9, 10)
STORY_KINDS = ("image", "video", "voice")


class StatusNotFound(NotFound):
    code, default_message = "STATUS_NOT_FOUND", "Status not found"


class StatusMediaNotFound(NotFound):
    code, default_message = "STATUS_MEDIA_NOT_FOUND", "This status has no stored media"


def story_media_key(session_id: str, status_id: str) -> str:
    """Where a received story's media bytes live in storage (beside the session's message media, so a
    deleted session's purge removes them too)."""
    return f"media/{session_id}/status/{status_id}"


def is_status_id(value: str) -> bool:
    """A story's id: a serialized message key of the chat `status@broadcast` (`<fromMe>_status@broadcast_<ID>
    _<poster>`), at most 256 characters."""
    return len(value) <= 256 and chat_of_key(value) == "status@broadcast"
