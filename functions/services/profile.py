"""The session account's own profile: display name, about text, picture (the `openwa` SDK's `profile`
resource, upstream's profile controller).

Asked of the session's engine at once (see `functions.services.session_engine`); every answer is
`{success, message}` (`success` false when WhatsApp did not confirm). The picture goes through the media
guard (`functions.services.pictures`) before anything reaches the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.config import Settings
from functions.core.chats import Capability
from functions.services import pictures
from functions.services.media import MediaLimits
from functions.services.session_engine import SessionEngine


def _answer(done: bool, message: str) -> dict[str, Any]:
    return {"success": done, "message": message if done else "WhatsApp did not confirm the change"}


class ProfileService:
    def __init__(self, engine: SessionEngine, settings: Settings) -> None:
        self._engine = engine
        self._limits = MediaLimits.from_settings(settings)

    def set_name(self, session_id: str, name: str) -> dict[str, Any]:
        """The display name (push name) the account's contacts see."""
        done = bool(self._engine.call(session_id, Capability.PROFILE_NAME, name))
        return _answer(done, "Profile name updated")

    def set_status(self, session_id: str, status: str) -> dict[str, Any]:
        """The about text ("" clears it)."""
        done = bool(self._engine.call(session_id, Capability.PROFILE_STATUS, status))
        return _answer(done, "Profile status updated")

    def set_picture(self, session_id: str, source: Mapping[str, Any]) -> dict[str, Any]:
        """Set the picture from `url` or `base64` (an image, else 400 INVALID_MEDIA)."""
        self._engine.ready(session_id)  # before downloading anything for a session that cannot use it
        data_url = pictures.image_data_url(source, self._limits, "a profile picture")
        done = bool(self._engine.call(session_id, Capability.PROFILE_PICTURE, data_url))
        return _answer(done, "Profile picture updated")

    def delete_picture(self, session_id: str) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.PROFILE_PICTURE, None))
        return _answer(done, "Profile picture removed")
