"""Calls: rejecting a ringing call and call links (the `openwa` SDK's `calls` resource).

Asked of the session's engine at once (see `functions.services.session_engine`). The call id comes from the
`call.received` event; a call that no longer rings is CALL_NOT_FOUND (404). Engines without call links (the
webjs one: wa-js has none) answer 501 ENGINE_NOT_SUPPORTED. Rejecting calls as they ring, when the session's
config says `autoRejectCalls`, is the session process's job (`runner.call_guard`).
"""

from __future__ import annotations

from typing import Any

from functions.core.chats import Capability
from functions.services.session_engine import SessionEngine


class CallService:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def reject(self, session_id: str, call_id: str) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.CALL_REJECT, call_id))
        return {"success": done}

    def create_link(self, session_id: str, kind: str, start_ms: int) -> dict[str, Any]:
        """CallLinkResponse `{link}`."""
        return {"link": str(self._engine.call(session_id, Capability.CALL_LINK, kind, start_ms))}
