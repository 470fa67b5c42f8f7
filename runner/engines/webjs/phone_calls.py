"""The webjs engine's call capabilities (`Capability.CALL_*`), over wa-js's `WPP.call.*`.

wa-js rejects a ringing call by id (`WPP.call.reject(callId)`: `call_not_found` for an unknown id,
`call_is_not_incoming_ring` for one that no longer rings; both are CALL_NOT_FOUND, 404). wa-js (pinned
4.6.0) declares no function that creates a call link, so `CALL_LINK` is 501 ENGINE_NOT_SUPPORTED.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from functions.core.chats import Capability
from runner.engines.base import NotSupportedByEngine

Guarded = Callable[[str, Any], Awaitable[Any]]

_REJECT = "async (id) => !!(await WPP.call.reject(id))"


class WebJsCalls:
    """The call capabilities by name; `guarded` runs a page function."""

    def __init__(self, guarded: Guarded) -> None:
        self._guarded = guarded

    def table(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        return {
            Capability.CALL_REJECT: lambda call_id: self._guarded(_REJECT, call_id),
            Capability.CALL_LINK: self.link,
        }

    async def link(self, kind: str, start_ms: int) -> str:
        raise NotSupportedByEngine("call links are not supported by the webjs engine (wa-js has none)")
