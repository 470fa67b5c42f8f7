"""OpenWA's webhook filters (`reference/openwa.md` §4.5): `{conditions: [{field, operator, value,
caseSensitive?}]}`, all ANDed. A field the event's payload lacks suppresses the event (a `sender` filter
drops ack and reaction events), so a filtered webhook only ever sees events it can judge.
"""

from __future__ import annotations

from typing import Any

# field -> (kind, payload keys tried in order)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sender": ("id", ("from", "senderId", "author")),
    "recipient": ("id", ("to", "chatId")),
    "body": ("text", ("body", "caption")),
    "type": ("enum", ("type",)),
    "isGroup": ("boolean", ("isGroup",)),
    "fromMe": ("boolean", ("fromMe",)),
    "hasMedia": ("boolean", ("hasMedia",)),
    "mentions": ("idArray", ("mentionedIds", "mentions")),
}
OPERATORS: dict[str, tuple[str, ...]] = {
    "text": ("contains", "equals", "is", "isNot"),
    "id": ("is", "isNot", "equals"),
    "enum": ("is", "isNot", "equals"),
    "boolean": ("is", "isNot", "equals"),
    "idArray": ("contains", "is", "isNot"),
}
MAX_CONDITIONS = 20
MAX_VALUES = 100
MAX_TEXT = 1000


def condition_problem(condition: dict[str, Any]) -> str | None:
    """Why a (schema-shaped) condition is invalid for its field, or None."""
    kind = FIELDS[condition["field"]][0]
    value = condition["value"]
    if condition["operator"] not in OPERATORS[kind]:
        return f"operator {condition['operator']!r} does not apply to {condition['field']!r}"
    if kind == "boolean" and not isinstance(value, bool):
        return f"{condition['field']!r} takes a boolean value"
    if kind == "text" and not isinstance(value, str):
        return f"{condition['field']!r} takes a string value"
    if kind in ("id", "enum", "idArray") and isinstance(value, bool):
        return f"{condition['field']!r} takes a string or a list of strings"
    if isinstance(value, list) and len(value) > MAX_VALUES:
        return f"at most {MAX_VALUES} values per condition"
    return None


def _lookup(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return None


def _fold(value: Any, case_sensitive: bool) -> Any:
    return value if case_sensitive or not isinstance(value, str) else value.lower()


def _holds(condition: dict[str, Any], actual: Any) -> bool:
    kind = FIELDS[condition["field"]][0]
    operator = condition["operator"]
    sensitive = bool(condition.get("caseSensitive", False))
    wanted = condition["value"]
    values = [_fold(item, sensitive) for item in (wanted if isinstance(wanted, list) else [wanted])]
    if kind == "text":
        text = _fold(str(actual), sensitive)
        hit = any(item in text for item in values) if operator == "contains" else text in values
    elif kind == "idArray":
        present = {_fold(str(item), sensitive) for item in actual} if isinstance(actual, list) else set()
        hit = bool(present & set(values))
    else:
        hit = _fold(actual, sensitive) in values
    return not hit if operator == "isNot" else hit


def matches(filters: dict[str, Any] | None, data: dict[str, Any]) -> bool:
    """Whether an event's `data` passes every condition (no filters: always)."""
    for condition in (filters or {}).get("conditions") or []:
        spec = FIELDS.get(condition.get("field", ""))
        if spec is None:
            return False
        actual = _lookup(data, spec[1])
        if actual is None or not _holds(condition, actual):
            return False
    return True


def subscribed(events: list[str], event: str) -> bool:
    """Whether a webhook's `events` selects `event` (`*` selects all, `status.received` included)."""
    return "*" in events or event in events
