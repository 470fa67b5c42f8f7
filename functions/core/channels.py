"""WhatsApp Channels (newsletters) in our vocabulary (no Redis, no Flask): ids, invite codes, limits and the
errors that cross the API/runner boundary by code.

A channel is addressed `<digits>@newsletter`; the answers are OpenWA's Channel `{id, name, description,
inviteCode, subscriberCount, verified, createdAt}` and ChannelMessage `{id, body, timestamp, hasMedia}`. An
invite code is what follows `https://whatsapp.com/channel/`; a whole link is accepted and cut to it.
"""

from __future__ import annotations

import re

from functions.core.errors import NotFound, ValidationFailed

MAX_NAME = 100
MAX_DESCRIPTION = 2048
DEFAULT_MESSAGES = 50
MAX_MESSAGES = 500
INVITE_LINK_PREFIX = "https://whatsapp.com/channel/"

_CHANNEL_ID = re.compile(r"^\d{5,30}@newsletter$")
_INVITE_CODE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


class ChannelNotFound(NotFound):
    code, default_message = "CHANNEL_NOT_FOUND", "Channel not found (or this account does not follow it)"


class ChannelInviteInvalid(NotFound):
    code, default_message = "CHANNEL_INVITE_INVALID", "No channel has this invite code"


def channel_id(value: str, field: str = "channelId") -> str:
    """A channel id (`<digits>@newsletter`); a 400 naming `field`."""
    if not _CHANNEL_ID.match(value):
        raise ValidationFailed.of_field(field, f"'{value}' is not a channel id (<id>@newsletter)")
    return value


def invite_code(value: str, field: str = "inviteCode") -> str:
    """The code of a channel invite (a whole `https://whatsapp.com/channel/<code>` link is cut to it)."""
    code = value.strip().removeprefix(INVITE_LINK_PREFIX).strip("/")
    if not _INVITE_CODE.match(code):
        raise ValidationFailed.of_field(field, "not a channel invite code or link")
    return code
