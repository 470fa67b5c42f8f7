"""Auto-reply rules in our vocabulary (no Redis, no Flask): limits, errors and which rule answers a message.

A rule (OpenWA's automation rule, `reference/openwa.md` §2.4 and §3.2) answers an inbound message with one
text: its `replyText`, or a stored template rendered with the rule's `templateVars`. Its `conditions` are
webhook filter conditions (`functions.webhooks.filters`), judged against the message as a webhook would see
it. Rules are tried oldest first and the first enabled one that matches decides: it answers, or, while its
cooldown for that chat runs, nothing does. A message is answered at most once, never when it is our own
(`fromMe`), and in a group only by a rule with `includeGroups`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from functions.core.errors import Conflict, NotFound
from functions.webhooks.filters import matches

MAX_NAME = 100
MAX_REPLY = 4096
MAX_COOLDOWN_SECONDS = 86_400
DEFAULT_COOLDOWN_SECONDS = 60
# Chats no rule answers: status updates and channels have no one to reply to.
_UNANSWERABLE_SUFFIXES = ("@broadcast", "@newsletter")


class AutomationRuleNotFound(NotFound):
    code, default_message = "AUTOMATION_RULE_NOT_FOUND", "Automation rule not found"


class TooManyAutomationRules(Conflict):
    code = "AUTOMATION_RULE_LIMIT_REACHED"
    default_message = "This session holds the most automation rules it may"


def filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored message as webhook filters read it: the record plus the caption and mentions its metadata
    keeps (the `message.received` payload carries them at the top level)."""
    metadata = record.get("metadata") or {}
    return {
        **record,
        "caption": metadata.get("caption"),
        "mentionedIds": metadata.get("mentionedIds") or metadata.get("mentions"),
    }


def answerable(record: Mapping[str, Any]) -> bool:
    """Whether a stored message may get an automatic reply at all: inbound, not our own, in a chat with
    someone to answer."""
    chat = str(record.get("chatId") or "")
    return (
        record.get("direction") == "incoming"
        and not record.get("fromMe")
        and bool(chat)
        and not chat.endswith(_UNANSWERABLE_SUFFIXES)
    )


def deciding_rule(rules: Iterable[Mapping[str, Any]], record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The rule that decides about `record` (rules oldest first): the first enabled one that takes the
    chat (groups only with `includeGroups`) and whose conditions all hold; None when no rule does."""
    if not answerable(record):
        return None
    view = filter_view(record)
    in_group = bool(record.get("isGroup")) or str(record.get("chatId", "")).endswith("@g.us")
    for rule in rules:
        if not rule.get("enabled", True) or (in_group and not rule.get("includeGroups")):
            continue
        if matches({"conditions": rule.get("conditions") or []}, view):
            return rule
    return None
