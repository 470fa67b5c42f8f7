"""The webjs engine's story capabilities (`Capability.STATUS_*`), over wa-js's `WPP.status.*`.

Posting is one guarded `page.evaluate` of `calls/post_status.js` (text, image, video, or a voice note sent
to `status@broadcast`); WhatsApp's answer is wa-js's SendMessageReturn, and anything but `OK` (or a negative
ack) is a story WhatsApp did not take (ENGINE_REFUSED). Removing is `WPP.status.remove(id)`, which looks the
story up first (`msg_not_found`) and answers `error_on_remove_status` when it cannot revoke it: both mean
there is no such own story (STATUS_NOT_FOUND, 404).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from functions.core.chats import Capability, EngineRefused
from functions.core.stories import StatusNotFound
from functions.services.messages import MessageNotFound

Guarded = Callable[[str, Any], Awaitable[Any]]
PageFunction = Callable[[str], str]

_REMOVE = "async (id) => !!(await WPP.status.remove(id))"
_SEND_OK = "OK"


class WebJsStories:
    """The story capabilities by name; `guarded` runs a page function."""

    def __init__(self, guarded: Guarded, page_function: PageFunction) -> None:
        self._guarded = guarded
        self._post = page_function("post_status")

    def table(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        return {
            Capability.STATUS_TEXT: self.post_text,
            Capability.STATUS_MEDIA: self.post_media,
            Capability.STATUS_REMOVE: self.remove,
        }

    async def post_text(self, text: str, background: str | None, font: int | None) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if background is not None:
            options["backgroundColor"] = background
        if font is not None:
            options["font"] = font
        return await self._posted(["text", text, options])

    async def post_media(self, kind: str, data_url: str, caption: str | None) -> dict[str, Any]:
        """`kind` image, video or voice; `data_url` the media as a `data:` URL."""
        options = {"caption": caption} if caption else {}
        return await self._posted([kind, data_url, options])

    async def _posted(self, arg: list[Any]) -> dict[str, Any]:
        sent = await self._guarded(self._post, arg)
        if (sent.get("sendResult") not in (None, _SEND_OK)) or int(sent.get("ack") or 0) < 0:
            raise EngineRefused(
                "WhatsApp did not take the status", details={"result": sent.get("sendResult")}
            )
        return {"statusId": str(sent["id"]), "timestamp": int(time.time())}

    async def remove(self, status_id: str) -> bool:
        try:
            return bool(await self._guarded(_REMOVE, status_id))
        except MessageNotFound as exc:
            raise StatusNotFound(details={"statusId": status_id}) from exc
