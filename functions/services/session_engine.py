"""Asking a ready session's engine for an optional capability, and relaying its answer as ours.

The session's process runs `runner.jobs.engine_capability` and answers `{"value": ...}` or `{"error": {status,
code, message, details}}`; the API waits for it (`RunnerCommands.call`: 504 RUNNER_TIMEOUT when no runner
answers in time, 502 RUNNER_COMMAND_FAILED when the job itself failed). A relayed error becomes the domain
error of the same code, so a handler answers exactly as if it had been raised here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.core.calls import CallNotFound
from functions.core.channels import ChannelInviteInvalid, ChannelNotFound
from functions.core.chats import Capability, ChatNotFound, ContactNotFound, EngineRefused
from functions.core.enums import SessionStatus
from functions.core.errors import DomainError, EngineNotSupported
from functions.core.groups import GroupNotFound, InviteCodeInvalid
from functions.core.labels import ChatLabelsUnsupported, LabelNotFound, NotABusinessAccount
from functions.core.models import Session
from functions.core.stories import StatusNotFound
from functions.queueing import SessionJob
from functions.services.messages import MessageNotFound, SessionNotReady
from functions.services.runner_commands import RunnerCommandFailed, RunnerCommands
from functions.services.sessions import SessionNotFound
from functions.state.sessions import SessionRepository

_RELAYED: dict[str, type[DomainError]] = {
    error.code: error
    for error in (
        MessageNotFound,
        ChatNotFound,
        ContactNotFound,
        EngineRefused,
        EngineNotSupported,
        GroupNotFound,
        InviteCodeInvalid,
        CallNotFound,
        StatusNotFound,
        LabelNotFound,
        NotABusinessAccount,
        ChatLabelsUnsupported,
        ChannelNotFound,
        ChannelInviteInvalid,
    )
}


def relayed(error: Mapping[str, Any]) -> DomainError:
    """The domain error a session process reported; anything unknown is RunnerCommandFailed (502)."""
    kind = _RELAYED.get(str(error.get("code")), RunnerCommandFailed)
    message = str(error.get("message") or "") or None
    details = error.get("details")
    return kind(message, details=dict(details) if isinstance(details, Mapping) else None)


class SessionEngine:
    """The engine of one session, through its process: the session must exist (404) and be ready (409)."""

    def __init__(self, sessions: SessionRepository, commands: RunnerCommands) -> None:
        self._sessions, self._commands = sessions, commands

    def session(self, session_id: str) -> Session:
        """The session record; SessionNotFound (404) when there is none."""
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(details={"sessionId": session_id})
        return session

    def ready(self, session_id: str) -> Session:
        """The session, which must be `ready`: SessionNotReady (409) otherwise."""
        session = self.session(session_id)
        if session.status is not SessionStatus.READY:
            raise SessionNotReady(
                "Session is not ready", details={"status": session.status.value, "sessionId": session.id}
            )
        return session

    def call(self, session_id: str, capability: Capability, *args: Any) -> Any:
        """Run `capability` on the ready session's engine and return its value (or raise its error)."""
        self.ready(session_id)
        answer = self._commands.call(
            session_id, SessionJob.ENGINE_CAPABILITY, name=capability.value, args=list(args)
        )
        if not isinstance(answer, Mapping):
            raise RunnerCommandFailed(details={"capability": capability.value})
        if "error" in answer:
            raise relayed(answer["error"])
        return answer.get("value")
