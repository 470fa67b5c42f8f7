"""Contacts in our vocabulary (no Redis, no Flask): the ids the address-book and lookup routes take.

OpenWA saves address-book entries by phone number only: a `@lid` hides the number WhatsApp's address book
keys on, so upstream refuses it (400) and so do we; groups and other non-person ids are refused too. The batch
picture lookup takes the first `MAX_PICTURE_IDS` ids it is given.
"""

from __future__ import annotations

from collections.abc import Iterable

from functions.core.errors import ValidationFailed
from functions.core.messages import InvalidChatId, normalize_chat_id

MAX_PICTURE_IDS = 50


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {field: [message]}})


def person_id(value: str, field: str = "contactId") -> str:
    """A person's id (`<digits>@c.us` from any usual phone spelling, or `<digits>@lid`); a 400 naming
    `field`."""
    try:
        chat = normalize_chat_id(value)
    except InvalidChatId as exc:
        raise _invalid(field, exc.message) from exc
    if not chat.endswith(("@c.us", "@lid")):
        raise _invalid(field, f"'{value}' is not a person (<digits>@c.us or <digits>@lid)")
    return chat


def presence_chat_id(value: str, field: str = "chatId") -> str:
    """A chat whose presence can be followed: a person (as `person_id`) or a group (`<id>@g.us`)."""
    try:
        chat = normalize_chat_id(value)
    except InvalidChatId as exc:
        raise _invalid(field, exc.message) from exc
    if not chat.endswith(("@c.us", "@lid", "@g.us")):
        raise _invalid(field, f"'{value}' is not a person or a group")
    return chat


def address_book_id(value: str, field: str = "contactId") -> str:
    """A person by phone number (`<digits>@c.us`): a `@lid` is refused, as upstream does (400)."""
    chat = person_id(value, field)
    if chat.endswith("@lid"):
        raise _invalid(field, "a @lid contact cannot be saved to the address book: use the phone number")
    return chat


def picture_ids(values: Iterable[str], field: str = "ids") -> list[str]:
    """The first MAX_PICTURE_IDS ids of a batch picture lookup (the rest ignored, as upstream), normalised,
    duplicates dropped; at least one (400)."""
    wanted = [value.strip() for value in values if value.strip()][:MAX_PICTURE_IDS]
    if not wanted:
        raise _invalid(field, "give at least one contact id")
    return list(dict.fromkeys(person_id(value, field) for value in wanted))
