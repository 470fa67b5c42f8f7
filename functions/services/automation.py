"""Auto-reply rules: CRUD per session (`/api/sessions/<id>/automation-rules`) and answering one inbound
message (`answer`, run by the `functions.jobs.auto_reply` job the webhook fan-out queues).

The reply is an ordinary send through `MessageService.send` (record, events, pacing), with the Idempotency-Key
`auto-reply:<messageId>`: a retried or repeated job for one message never sends twice. Which rule answers is
`functions.core.automation.deciding_rule`; cooldowns are `functions.state.automation_rules`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from functions.core.automation import (
    DEFAULT_COOLDOWN_SECONDS,
    AutomationRuleNotFound,
    TooManyAutomationRules,
    deciding_rule,
)
from functions.core.clock import iso, utcnow
from functions.core.errors import Conflict, DomainError, ServiceUnavailable, ValidationFailed
from functions.core.templates import TemplateNotFound, render
from functions.services.messages import MessageService, SendRequest, fingerprint
from functions.services.sessions import require_session
from functions.state.automation_rules import AutomationRuleRepository
from functions.state.messages import MessageRepository
from functions.state.sessions import SessionRepository
from functions.state.templates import TemplateRepository

log = logging.getLogger(__name__)


class AutomationService:
    def __init__(
        self,
        sessions: SessionRepository,
        rules: AutomationRuleRepository,
        templates: TemplateRepository,
        *,
        max_per_session: int,
    ) -> None:
        self._sessions, self._rules, self._templates = sessions, rules, templates
        self._max = max_per_session

    def list(self, session_id: str) -> list[dict[str, Any]]:
        """The session's rules, oldest first (the order they are tried in). SessionNotFound."""
        require_session(self._sessions, session_id)
        return self._rules.list(session_id)

    def get(self, session_id: str, rule_id: str) -> dict[str, Any]:
        """One rule. SessionNotFound, AutomationRuleNotFound."""
        require_session(self._sessions, session_id)
        record = self._rules.get(session_id, rule_id)
        if record is None:
            raise AutomationRuleNotFound(details={"ruleId": rule_id})
        return record

    def create(self, session_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Store a rule (defaults: enabled, cooldown 60 s, no conditions, not in groups). SessionNotFound,
        TemplateNotFound, TemplateVariableMissing (400: `templateVars` lacks a placeholder of the template),
        TooManyAutomationRules (409)."""
        require_session(self._sessions, session_id)
        now = iso(utcnow())
        record = {
            "id": str(uuid.uuid4()),
            "sessionId": session_id,
            "name": body["name"],
            "enabled": body.get("enabled", True),
            "conditions": body.get("conditions") or [],
            "replyText": body.get("replyText"),
            "templateId": body.get("templateId"),
            "templateVars": body.get("templateVars") or {},
            "cooldownSeconds": body.get("cooldownSeconds", DEFAULT_COOLDOWN_SECONDS),
            "includeGroups": body.get("includeGroups", False),
            "createdAt": now,
            "updatedAt": now,
        }
        self._check_reply(record)
        if not self._rules.create(record, score_ms=int(time.time() * 1000), limit=self._max):
            raise TooManyAutomationRules(details={"sessionId": session_id, "limit": self._max})
        return record

    def update(self, session_id: str, rule_id: str, change: Mapping[str, Any]) -> dict[str, Any]:
        """Change some fields; a new `replyText` drops a template reply and a new `templateId` drops the
        text. SessionNotFound, AutomationRuleNotFound, TemplateNotFound, TemplateVariableMissing, and
        ValidationFailed (400) when the rule would be left without a reply."""
        current = self.get(session_id, rule_id)
        fields = dict(change)
        if fields.get("replyText") is not None:
            fields.update(templateId=None, templateVars={})
        if fields.get("templateId") is not None:
            fields["replyText"] = None
        if "templateVars" in fields:
            fields["templateVars"] = fields["templateVars"] or {}
        self._check_reply({**current, **fields})
        outcome, record = self._rules.update(session_id, rule_id, {**fields, "updatedAt": iso(utcnow())})
        if outcome == "missing":
            raise AutomationRuleNotFound(details={"ruleId": rule_id})
        if outcome == "busy":
            raise Conflict("The rule is being changed by other requests; try again")
        assert record is not None
        return record

    def delete(self, session_id: str, rule_id: str) -> None:
        """Remove a rule. SessionNotFound, AutomationRuleNotFound."""
        require_session(self._sessions, session_id)
        if not self._rules.delete(session_id, rule_id):
            raise AutomationRuleNotFound(details={"ruleId": rule_id})

    def reply_text(self, rule: Mapping[str, Any]) -> str:
        """The text the rule answers with: its `replyText`, or its template rendered with `templateVars`.
        TemplateNotFound, TemplateVariableMissing, RenderedTooLong."""
        if rule.get("replyText") is not None:
            return str(rule["replyText"])
        template = self._templates.get(str(rule["sessionId"]), str(rule.get("templateId")))
        if template is None:
            raise TemplateNotFound(details={"templateId": rule.get("templateId")})
        values = rule.get("templateVars") or {}
        return render(template["body"], template.get("header"), template.get("footer"), values)

    def _check_reply(self, rule: Mapping[str, Any]) -> None:
        if rule.get("replyText") is None and rule.get("templateId") is None:
            raise ValidationFailed(
                "A rule needs a replyText or a templateId", details={"fields": ["replyText", "templateId"]}
            )
        self.reply_text(rule)  # a template reply must render now, not fail at every message later


class AutoReplier:
    """Answers one inbound message by the rule that decides about it (the job's work)."""

    def __init__(
        self,
        rules: AutomationRuleRepository,
        automation: AutomationService,
        messages: MessageRepository,
        sends: MessageService,
    ) -> None:
        self._rules, self._automation, self._messages, self._sends = rules, automation, messages, sends

    def answer(self, session_id: str, message_id: str) -> str:
        """Reply to stored message `message_id` if a rule says so; returns what happened (`replied`,
        `no-message`, `no-rule`, `cooling-down`, `refused`). Idempotent: the cooldown the message took stays
        its own, and the send's Idempotency-Key is derived from the message. Raises StateUnavailable (the
        job is retried); a refused send (session not ready, pacing, a template gone) frees the cooldown."""
        record = self._messages.get(session_id, message_id)
        if record is None:
            return "no-message"
        rule = deciding_rule(self._rules.list(session_id), record)
        if rule is None:
            return "no-rule"
        rule_id, chat, cooldown = str(rule["id"]), str(record["chatId"]), int(rule["cooldownSeconds"])
        if not self._rules.claim_cooldown(session_id, rule_id, chat, message_id, cooldown):
            return "cooling-down"
        try:
            self._send(rule, record)
        except ServiceUnavailable:
            raise
        except DomainError as exc:
            self._rules.release_cooldown(session_id, rule_id, chat, message_id)
            log.warning("auto-reply to %s in session %s refused: %s", message_id, session_id, exc.code)
            return "refused"
        return "replied"

    def _send(self, rule: Mapping[str, Any], record: Mapping[str, Any]) -> None:
        message_id = str(record["id"])
        request = SendRequest(
            session_id=str(record["sessionId"]),
            chat_id=str(record["chatId"]),
            content={"kind": "text", "text": self._automation.reply_text(rule)},
            # The key answers every later try for this message; the fingerprint must not depend on the
            # rule's text, which may be edited between a try and its retry.
            fingerprint=fingerprint("auto-reply", {"messageId": message_id}),
            idempotency_key=f"auto-reply:{message_id}",
        )
        self._sends.send(request)
