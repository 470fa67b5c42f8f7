"""Message templates: CRUD per session, and `send-template`, which renders one and sends the text exactly as
`send-text` would (`MessageService.send`: the same record, job, pacing and Idempotency-Key answer).

Rendering is `functions.core.templates.render`; storage is `functions.state.templates`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from functions.core.clock import iso, utcnow
from functions.core.errors import Conflict
from functions.core.templates import (
    MAX_TEMPLATES_PER_SESSION,
    TemplateNameTaken,
    TemplateNotFound,
    TooManyTemplates,
    render,
)
from functions.services.messages import MessageService, SendRequest
from functions.services.sessions import SessionNotFound
from functions.state.sessions import SessionRepository
from functions.state.templates import Outcome, TemplateRepository


def _raise_for(outcome: Outcome, session_id: str, name: str | None, template_id: str | None = None) -> None:
    if outcome == "name_taken":
        raise TemplateNameTaken(details={"name": name, "sessionId": session_id})
    if outcome == "full":
        raise TooManyTemplates(details={"sessionId": session_id, "limit": MAX_TEMPLATES_PER_SESSION})
    if outcome == "missing":
        raise TemplateNotFound(details={"templateId": template_id})
    if outcome == "busy":
        raise Conflict("The template is being changed by other requests; try again")


class TemplateService:
    def __init__(
        self, sessions: SessionRepository, templates: TemplateRepository, messages: MessageService
    ) -> None:
        self._sessions, self._templates, self._messages = sessions, templates, messages

    def _require_session(self, session_id: str) -> None:
        if not self._sessions.exists(session_id):
            raise SessionNotFound(details={"sessionId": session_id})

    def list(self, session_id: str) -> list[dict[str, Any]]:
        """The session's templates, oldest first. SessionNotFound."""
        self._require_session(session_id)
        return self._templates.list(session_id)

    def get(self, session_id: str, template_id: str) -> dict[str, Any]:
        """One template. SessionNotFound, TemplateNotFound."""
        self._require_session(session_id)
        record = self._templates.get(session_id, template_id)
        if record is None:
            raise TemplateNotFound(details={"templateId": template_id})
        return record

    def create(self, session_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Store a template (`name`, `body`, optional `header`, `footer`). SessionNotFound,
        TemplateNameTaken (409), TooManyTemplates (409)."""
        self._require_session(session_id)
        now = iso(utcnow())
        record = {
            "id": str(uuid.uuid4()),
            "sessionId": session_id,
            "name": body["name"],
            "body": body["body"],
            "header": body.get("header"),
            "footer": body.get("footer"),
            "createdAt": now,
            "updatedAt": now,
        }
        score = int(time.time() * 1000)
        outcome = self._templates.create(record, score_ms=score, limit=MAX_TEMPLATES_PER_SESSION)
        _raise_for(outcome, session_id, record["name"])
        return record

    def update(self, session_id: str, template_id: str, change: Mapping[str, Any]) -> dict[str, Any]:
        """Change some fields (`header`/`footer` null clears). SessionNotFound, TemplateNotFound,
        TemplateNameTaken."""
        self._require_session(session_id)
        outcome, record = self._templates.update(
            session_id, template_id, {**change, "updatedAt": iso(utcnow())}
        )
        _raise_for(outcome, session_id, change.get("name"), template_id)
        assert record is not None
        return record

    def delete(self, session_id: str, template_id: str) -> None:
        """Remove a template. SessionNotFound, TemplateNotFound."""
        self._require_session(session_id)
        if not self._templates.delete(session_id, template_id):
            raise TemplateNotFound(details={"templateId": template_id})

    def send(
        self, session_id: str, body: Mapping[str, Any], *, fingerprint: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        """Render the template named by `templateId` or `templateName` with `vars` and send the text as
        send-text does: 201 `{messageId, timestamp}`. Raises what `MessageService.send` raises, and
        SessionNotFound, TemplateNotFound, TemplateVariableMissing (400, naming each missing variable),
        RenderedTooLong (400)."""
        template = self._find(session_id, body.get("templateId"), body.get("templateName"))
        text = render(
            template["body"], template.get("header"), template.get("footer"), body.get("vars") or {}
        )
        content: dict[str, Any] = {"kind": "text", "text": text}
        for name in ("mentions", "linkPreview"):
            if body.get(name) not in (None, []):
                content[name] = body[name]
        request = SendRequest(
            session_id=session_id,
            chat_id=body["chatId"],
            content=content,
            fingerprint=fingerprint,
            idempotency_key=idempotency_key,
            queue=bool(body.get("queue")),
            send_at=body.get("sendAt"),
        )
        return self._messages.send(request)

    def _find(self, session_id: str, template_id: str | None, name: str | None) -> dict[str, Any]:
        self._require_session(session_id)
        if template_id is not None:
            record = self._templates.get(session_id, template_id)
        else:
            record = self._templates.find_by_name(session_id, str(name))
        if record is None:
            raise TemplateNotFound(details={"templateId": template_id, "templateName": name})
        return record
