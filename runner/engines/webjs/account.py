"""The webjs engine's capabilities about the account itself: its profile (`Capability.PROFILE_*`), over
wa-js's `WPP.profile.*`.

Each is a guarded `page.evaluate` (`capabilities.WebJsCapabilities._guarded`), so a wa-js error code comes
back as our domain error. wa-js resizes a picture itself (640x640 JPEG, as WhatsApp Web does) and answers
setMyProfilePicture with the server's `{eurl, status, ...}`: 200 is a picture set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from functions.core.chats import Capability

Guarded = Callable[[str, Any], Awaitable[Any]]

_NAME = "async (name) => !!(await WPP.profile.setMyProfileName(name))"
_STATUS = "async (text) => !!(await WPP.profile.setMyStatus(text))"
_SET_PICTURE = "async (data) => (await WPP.profile.setMyProfilePicture(data)).status === 200"
_REMOVE_PICTURE = "async () => !!(await WPP.profile.removeMyProfilePicture())"


class WebJsAccount:
    """The account capabilities by name; `guarded` runs a page function."""

    def __init__(self, guarded: Guarded) -> None:
        self._guarded = guarded

    def table(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        return {
            Capability.PROFILE_NAME: lambda name: self._guarded(_NAME, name),
            Capability.PROFILE_STATUS: lambda text: self._guarded(_STATUS, text),
            Capability.PROFILE_PICTURE: self.set_picture,
        }

    async def set_picture(self, data_url: str | None) -> bool:
        """Set the picture (an image `data:` URL) or remove it (None)."""
        if data_url is None:
            return bool(await self._guarded(_REMOVE_PICTURE, None))
        return bool(await self._guarded(_SET_PICTURE, data_url))
