"""WhatsApp Business chat labels in our vocabulary (no Redis, no Flask): ids, colours and the errors that
cross the API/runner boundary by code.

Labels belong to WhatsApp Business accounts. A label is `{id, name, hexColor}` (OpenWA's Label); WhatsApp
numbers label ids itself (small decimal strings) and colours by palette index (0-19). Writing labels on an
account that is not a business one is upstream's `ChatLabelsUnsupportedError` (422, "Chat labels require a
WhatsApp Business account."), here with the code NOT_A_BUSINESS_ACCOUNT; channels carry no labels at all
(422 CHAT_LABELS_UNSUPPORTED, upstream's "Channels do not support chat labels.").
"""

from __future__ import annotations

import re

from functions.core.errors import DomainError, NotFound, ValidationFailed

MAX_COLOR = 19  # WhatsApp's label palette has 20 colours, by index
MAX_NAME = 100
_LABEL_ID = re.compile(r"^[0-9]{1,20}$")


class LabelNotFound(NotFound):
    code, default_message = "LABEL_NOT_FOUND", "Label not found"


class NotABusinessAccount(DomainError):
    status, code = 422, "NOT_A_BUSINESS_ACCOUNT"
    default_message = "Chat labels require a WhatsApp Business account."


class ChatLabelsUnsupported(DomainError):
    status, code, default_message = 422, "CHAT_LABELS_UNSUPPORTED", "Channels do not support chat labels."


def label_id(value: str, field: str = "labelId") -> str:
    """A label id as WhatsApp numbers them (decimal digits); a 400 naming `field`."""
    if not _LABEL_ID.match(value):
        raise ValidationFailed.of_field(
            field, f"'{value}' is not a label id (WhatsApp numbers labels: digits only)"
        )
    return value


def labelled_chat_id(chat_id: str) -> str:
    """`chat_id` (already a normalised chat id) when a label can be put on it; a channel cannot carry one."""
    if chat_id.endswith("@newsletter"):
        raise ChatLabelsUnsupported(details={"chatId": chat_id})
    return chat_id
