"""The session's contacts: list, one contact, number check, profile pictures, block list, the address book
and resolving a `@lid` to a phone number.

Asked of the session's engine at once (see `functions.services.session_engine`); shapes are OpenWA's
(`Contact {id, name, pushName, number, isMyContact, isBlocked, profilePicUrl}`, `{number, exists,
whatsappId}`, `{url}`, `{pictures}`, `{contactId, phone}`, `{success, message}`). Ids arrive validated
(`functions.core.contacts`).
"""

from __future__ import annotations

from typing import Any

from functions.core.chats import Capability
from functions.services.session_engine import SessionEngine


class ContactService:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def page(self, session_id: str, *, limit: int, offset: int) -> list[dict[str, Any]]:
        contacts: list[dict[str, Any]] = self._engine.call(session_id, Capability.CONTACTS)
        return contacts[offset : offset + limit]

    def blocked(self, session_id: str) -> list[str]:
        return [str(jid) for jid in self._engine.call(session_id, Capability.BLOCKED)]

    def check(self, session_id: str, number: str) -> dict[str, Any]:
        """Whether `number` (digits) is on WhatsApp, and its WhatsApp id when it is."""
        found = self._engine.call(session_id, Capability.CONTACT_CHECK, f"{number}@c.us")
        return {"number": number, "exists": found is not None, "whatsappId": found}

    def get(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """One contact; ContactNotFound (404) when WhatsApp has none under that id."""
        contact: dict[str, Any] = self._engine.call(session_id, Capability.CONTACT, contact_id)
        return contact

    def profile_picture(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """`{url}`: the picture's URL, or None when the contact shows none."""
        return {"url": self._engine.call(session_id, Capability.CONTACT_PICTURE, contact_id)}

    def block(self, session_id: str, contact_id: str, *, block: bool) -> dict[str, Any]:
        done = bool(self._engine.call(session_id, Capability.CONTACT_BLOCK, contact_id, block))
        verb = "blocked" if block else "unblocked"
        message = f"Contact {verb}" if done else f"WhatsApp did not confirm the contact is {verb}"
        return {"success": done, "message": message}

    def save(
        self, session_id: str, contact_id: str, first_name: str, last_name: str | None
    ) -> dict[str, Any]:
        """Save `contact_id` (a phone jid) to the address book under that name, or rename its entry."""
        done = bool(self._engine.call(session_id, Capability.CONTACT_SAVE, contact_id, first_name, last_name))
        return {"success": done, "message": "Contact saved" if done else "WhatsApp did not confirm the save"}

    def remove(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """Remove `contact_id` from the address book (the chat and messages stay)."""
        done = bool(self._engine.call(session_id, Capability.CONTACT_REMOVE, contact_id))
        message = "Contact removed" if done else "WhatsApp did not confirm the removal"
        return {"success": done, "message": message}

    def phone(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """`{contactId, phone}`: the phone number (digits) behind a `@lid` or phone jid, None when WhatsApp
        knows none."""
        found = self._engine.call(session_id, Capability.CONTACT_PHONE, contact_id)
        return {"contactId": contact_id, "phone": str(found).split("@")[0] if found else None}

    def profile_pictures(self, session_id: str, contact_ids: list[str]) -> dict[str, Any]:
        """`{pictures: {id: URL | None}}` for the given ids (already cut to the first 50)."""
        found = self._engine.call(session_id, Capability.CONTACT_PICTURES, contact_ids) or {}
        return {"pictures": {jid: found.get(jid) for jid in contact_ids}}
