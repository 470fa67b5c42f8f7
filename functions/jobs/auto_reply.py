"""The auto-reply job (queue `default`; `AUTO_REPLY_JOB` of `functions.queueing`).

The webhook fan-out queues one per `message.received` of a session that has automation rules, in the same
transaction as the event's deliveries, so replies are decided off the request and event paths, by whichever
`openwa worker` takes the job.
"""

from __future__ import annotations

from functools import lru_cache

from functions.config import get_settings
from functions.services.automation import AutomationService, AutoReplier
from functions.services.messages import MessageService
from functions.state.automation_rules import AutomationRuleRepository
from functions.state.connection import redis_from_settings
from functions.state.keys import Keys
from functions.state.messages import MessageRepository
from functions.state.sessions import SessionRepository
from functions.state.templates import TemplateRepository
from functions.storage import build_storage


@lru_cache(maxsize=1)
def _replier() -> AutoReplier:
    """This worker process's replier, from the environment's settings (one Redis pool per process)."""
    settings = get_settings()
    conn = redis_from_settings(settings)
    keys = Keys(settings.redis_prefix)
    sessions = SessionRepository(conn, keys)
    messages = MessageRepository(
        conn,
        keys,
        retention_seconds=settings.message_retention_days * 86_400,
        max_held=settings.max_held_sends_per_session,
    )
    storage = build_storage(settings)
    sends = MessageService(settings, conn, keys, sessions, messages, lambda: storage)
    rules = AutomationRuleRepository(conn, keys)
    automation = AutomationService(
        sessions, rules, TemplateRepository(conn, keys), max_per_session=settings.automation_max_per_session
    )
    return AutoReplier(rules, automation, messages, sends)


def answer(session_id: str, message_id: str) -> str:
    """Reply to inbound message `message_id` if one of the session's rules says so; returns what happened.
    Idempotent (a retried job never sends twice, see `AutoReplier.answer`); retried by RQ only when Redis
    was unavailable."""
    return _replier().answer(session_id, message_id)
