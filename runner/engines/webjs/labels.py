"""The webjs engine's WhatsApp Business label capabilities (`Capability.LABEL*`, `CHAT_LABEL*`), over wa-js's
`WPP.labels.*` (page function `calls/labels.js`).

wa-js's codes become ours (`capabilities.translate`): `is_not_business` (assertIsBusiness) →
NOT_A_BUSINESS_ACCOUNT (422), `canot_get_label_error`/`label_not_exist` → LABEL_NOT_FOUND (404),
`chat_not_found` → CHAT_NOT_FOUND (404). A chat's labels are the ids on its ChatModel (`labels`); the chats
carrying a label are `WPP.chat.list({withLabels})`. wa-js's editLabel cannot set colour index 0 (it reads
0 as "keep the colour"); addNewLabel can.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from functions.core.chats import Capability
from functions.core.labels import NotABusinessAccount

Guarded = Callable[[str, Any], Awaitable[Any]]
ByPhone = Callable[[Any], Awaitable[Any]]


class WebJsLabels:
    """The label capabilities by name; `guarded` runs a page function, `by_phone` swaps LIDs for phones."""

    def __init__(self, guarded: Guarded, by_phone: ByPhone, page_function: Callable[[str], str]) -> None:
        self._guarded, self._by_phone = guarded, by_phone
        self._script = page_function("labels")

    def table(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        return {
            Capability.LABELS: lambda: self._run("list"),
            Capability.LABEL: lambda label: self._run("get", id=label),
            Capability.LABEL_UPSERT: lambda label, name, color: self._run(
                "upsert", id=label, name=name, color=color
            ),
            Capability.LABEL_DELETE: lambda label: self._run("delete", id=label),
            Capability.LABEL_CHATS: self.chats,
            Capability.CHAT_LABELS: lambda chat: self._run("ofChat", chat=chat),
            Capability.CHAT_LABEL: lambda chat, label, add: self._run("change", chat=chat, id=label, add=add),
        }

    async def _run(self, action: str, **args: Any) -> Any:
        try:
            return await self._guarded(self._script, [action, args])
        except NotABusinessAccount as exc:  # upstream's words, not wa-js's ("...not a business version")
            raise NotABusinessAccount(details={"reason": exc.message}) from exc

    async def chats(self, label_id: str) -> list[dict[str, Any]]:
        """Rows of the chats carrying the label (`capabilities.chats` rows without a last message)."""
        rows: list[dict[str, Any]] = await self._by_phone(await self._run("chats", id=label_id))
        return rows
