"""Calls in our vocabulary (no Redis, no Flask): call ids and the error that crosses the API/runner boundary.

A call's id comes from the `call.received` event; WhatsApp only lets a call be rejected while it rings, so a
call that is unknown, answered, missed or already rejected is CALL_NOT_FOUND (404), as upstream answers.
"""

from __future__ import annotations

import re

from functions.core.errors import NotFound, ValidationFailed

CALL_LINK_TYPES = ("audio", "video")
_CALL_ID = re.compile(r"^[A-Za-z0-9_-]{6,128}$")


class CallNotFound(NotFound):
    code, default_message = "CALL_NOT_FOUND", "Call not found (or no longer ringing)"


def call_id(value: str, field: str = "callId") -> str:
    """A call id as WhatsApp gives it (letters, digits, `_`/`-`); a 400 naming `field`."""
    if not _CALL_ID.match(value):
        message = f"'{value}' is not a call id"
        raise ValidationFailed(message, details={"fields": {field: [message]}})
    return value
