"""Honours a session's `autoRejectCalls` (its config, `functions.core.models.SessionConfig`): a call that
rings is rejected at once, after its `call.received` event is published (so webhooks still hear of it), and
when `AUTO_REJECT_CALLS_MESSAGE` is set the caller gets that text, sent like any API send (a message record,
pacing, `message.sent`).

The config is read at each call, so a PATCH of the session's config applies to the next call without a
restart. The rejection runs beside the event flow (never holding it up); a call that stopped ringing before
it could be rejected, an engine that cannot reject, or a reply that cannot be sent is logged and left alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from functions.core.chats import Capability
from functions.core.errors import DomainError
from functions.core.models import Session
from functions.services.messages import MessageService, SendRequest, fingerprint
from runner.engines.base import Engine, EngineError

log = logging.getLogger(__name__)

Reply = Callable[[str, str], None]  # (caller's chat id, call id), blocking


def text_reply(messages: MessageService, session_id: str, text: str) -> Reply | None:
    """A Reply that sends `text` to the caller through `messages` (None when `text` is empty). The call id is
    the idempotency key: a call is answered once, whatever retries."""
    if not text:
        return None

    def reply(caller: str, call_id: str) -> None:
        content = {"kind": "text", "text": text}
        request = SendRequest(
            session_id=session_id,
            chat_id=caller,
            content=content,
            fingerprint=fingerprint("call.autoReject", content),
            idempotency_key=f"call-reject:{call_id}",
        )
        messages.send(request)

    return reply


class CallGuard:
    """Rejects ringing calls for a session whose config asks for it; `session` reads the session record,
    `reply` (optional) answers the caller afterwards."""

    def __init__(self, engine: Engine, session: Callable[[], Session | None], reply: Reply | None) -> None:
        self._engine, self._session, self._reply = engine, session, reply
        self._pending: set[asyncio.Future[None]] = set()

    def on_call(self, data: dict[str, Any]) -> None:
        """A `call.received` event was published: reject the call if the session's config says so."""
        call_id = str(data.get("callId") or "")
        if call_id:
            task = asyncio.ensure_future(self._maybe_reject(call_id, str(data.get("from") or "")))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _maybe_reject(self, call_id: str, caller: str) -> None:
        session = await asyncio.to_thread(self._session)
        if session is None or not session.config.auto_reject_calls:
            return
        try:
            await self._engine.capability(Capability.CALL_REJECT.value, call_id)
        except (DomainError, EngineError) as exc:
            log.warning("call %s could not be rejected automatically: %s", call_id, exc)
            return
        log.info("call %s rejected (autoRejectCalls)", call_id)
        if self._reply is not None and caller:
            try:
                await asyncio.to_thread(self._reply, caller, call_id)
            except DomainError as exc:  # not ready any more, pacing refused it...
                log.warning("the reply to rejected call %s was not sent: %s", call_id, exc)
