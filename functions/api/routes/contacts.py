"""`/api/sessions/<id>/contacts`: contacts, number checks, profile pictures, the block list, the address book
and `@lid` resolution. See `functions.services.contacts`."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.segments import segment_except
from functions.api.wiring import services
from functions.core import contacts
from functions.core.enums import Role
from functions.schemas.chats import PageQuerySchema, SuccessSchema, path_chat_id
from functions.schemas.contacts import (
    CheckNumberSchema,
    ContactPhoneSchema,
    ContactSchema,
    ProfilePictureSchema,
    ProfilePicturesQuerySchema,
    ProfilePicturesSchema,
    UpsertContactSchema,
    path_phone_number,
)

blp = Blueprint("contacts", __name__, url_prefix="/api/sessions", description="Contacts of a session")

# Session or contact missing (404), session not ready (409), the engine lacks the lookup (501), the runner
# failed (502) or did not answer in time (504).
# 405: a static name (`blocked`, `profile-pictures`) where the id goes, with another method.
_READ_ERRORS = (400, 404, 405, 409, 501, 502, 504)
_ID_LIST = {"type": "array", "items": {"type": "string"}}
_CONTACT = "/<session_id>/contacts/<contact:contact_id>"

# Not the static `blocked` and `profile-pictures` beside it (functions.api.segments).
CONTACT_SEGMENT = segment_except("blocked", "profile-pictures")
blp.record_once(lambda state: state.app.url_map.converters.setdefault("contact", CONTACT_SEGMENT))
# Changing the address book adds WhatsApp's refusal (403).
_ACT_ERRORS = (400, 403, 404, 405, 409, 501, 502, 504)


@blp.route("/<session_id>/contacts")
class Contacts(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, ContactSchema(many=True))
    @blp.errors(*_READ_ERRORS)
    def get(self, query: dict[str, Any], session_id: str) -> list[dict[str, Any]]:
        """The account's contacts (`limit` ≤ 1000, `offset`)."""
        return services().contacts.page(session_id, limit=query["limit"], offset=query["offset"])


@blp.route("/<session_id>/contacts/blocked")
class Blocked(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, _ID_LIST)
    @blp.errors(*_READ_ERRORS)
    def get(self, session_id: str) -> Response:
        """The ids this account has blocked."""
        return jsonify(services().contacts.blocked(session_id))


@blp.route("/<session_id>/contacts/check/<number>")
class CheckNumber(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, CheckNumberSchema)
    @blp.errors(*_READ_ERRORS)
    def get(self, session_id: str, number: str) -> dict[str, Any]:
        """Whether a phone number is on WhatsApp, and its WhatsApp id."""
        return services().contacts.check(session_id, path_phone_number(number))


@blp.route(_CONTACT)
class Contact(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, ContactSchema)
    @blp.errors(*_READ_ERRORS)
    def get(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """One contact, with its profile picture URL."""
        return services().contacts.get(session_id, path_chat_id(contact_id, "contactId"))

    @requires(Role.OPERATOR)
    @blp.arguments(UpsertContactSchema())
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT_ERRORS, body=True)
    def put(self, body: dict[str, Any], session_id: str, contact_id: str) -> dict[str, Any]:
        """Save a phone number to the address book, or rename its entry (a `@lid` is refused: 400)."""
        jid = contacts.address_book_id(contact_id)
        return services().contacts.save(session_id, jid, body["firstName"], body.get("lastName"))

    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(*_ACT_ERRORS)
    def delete(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """Remove a phone number from the address book (its chat stays)."""
        return services().contacts.remove(session_id, contacts.address_book_id(contact_id))


@blp.route("/<session_id>/contacts/profile-pictures")
class ProfilePictures(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(ProfilePicturesQuerySchema(), location="query")
    @blp.response(200, ProfilePicturesSchema)
    @blp.errors(*_READ_ERRORS)
    def get(self, query: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Profile picture URLs of up to 50 contacts at once (`ids` comma-separated; the rest ignored)."""
        ids = contacts.picture_ids(query["ids"].split(","))
        return services().contacts.profile_pictures(session_id, ids)


@blp.route(f"{_CONTACT}/phone")
class Phone(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, ContactPhoneSchema)
    @blp.errors(*_READ_ERRORS)
    def get(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """The phone number behind a contact id (resolves a `@lid`; `null` when WhatsApp knows none)."""
        return services().contacts.phone(session_id, contacts.person_id(contact_id))


@blp.route(f"{_CONTACT}/profile-picture")
class ProfilePicture(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, ProfilePictureSchema)
    @blp.errors(*_READ_ERRORS)
    def get(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """A contact's profile picture URL (`null` when it shows none)."""
        return services().contacts.profile_picture(session_id, path_chat_id(contact_id, "contactId"))


@blp.route(f"{_CONTACT}/block")
class Block(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(400, 403, 404, 405, 409, 501, 502, 504)
    def post(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """Block a contact."""
        return services().contacts.block(session_id, path_chat_id(contact_id, "contactId"), block=True)

    @requires(Role.OPERATOR)
    @blp.response(200, SuccessSchema)
    @blp.errors(400, 403, 404, 405, 409, 501, 502, 504)
    def delete(self, session_id: str, contact_id: str) -> dict[str, Any]:
        """Unblock a contact."""
        return services().contacts.block(session_id, path_chat_id(contact_id, "contactId"), block=False)
