"""Groups in our vocabulary (no Redis, no Flask): ids, participant lists, settings and the errors that cross
the API/runner boundary by code.

OpenWA's group routes (`reference/openwa.md` §2.4 "Groups") address a group by `<id>@g.us` and people by
phone number or WhatsApp id; a request names 1 to 256 participants (WhatsApp's group size limit counts
the creator too, so 256 others is the most one request can carry). Per-participant outcomes are
OpenWA's `ParticipantResult {id, success, status, message}` in request order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from functions.core.errors import NotFound, ValidationFailed

MAX_PARTICIPANTS = 256
INVITE_LINK_PREFIX = "https://chat.whatsapp.com/"
# wa-js setProperty's ephemeral durations (seconds; 0 turns disappearing messages off).
EPHEMERAL_SECONDS = (0, 86_400, 604_800, 7_776_000)
# OpenWA memberAddMode <-> WhatsApp's GroupMetadataModel.memberAddMode.
MEMBER_ADD_MODES = {"all": "all_member_add", "admins": "admin_add"}
PARTICIPANT_OPERATIONS = ("add", "remove", "promote", "demote")

_GROUP_ID = re.compile(r"^(?:\d{5,30}|\d{5,20}-\d{5,20})@g\.us$")
_USER_ID = re.compile(r"^\d{5,20}@(?:c\.us|s\.whatsapp\.net|lid)$")
_PHONE = re.compile(r"^\+?[\d\s().-]{5,30}$")
_INVITE_CODE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


class GroupNotFound(NotFound):
    code, default_message = "GROUP_NOT_FOUND", "Group not found (or this account is not in it)"


class InviteCodeInvalid(NotFound):
    code, default_message = "INVITE_CODE_INVALID", "The invite code is not valid (or was revoked)"


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {field: [message]}})


def group_id(value: str, field: str = "groupId") -> str:
    """A group id (`<digits>@g.us`, or the older `<creator>-<time>@g.us`); a 400 naming `field`."""
    if not _GROUP_ID.match(value):
        raise _invalid(field, f"'{value}' is not a group id (<id>@g.us)")
    return value


def participant_id(value: str, field: str = "participants") -> str:
    """A person as WhatsApp addresses them: `<digits>@c.us` (from a phone number in any usual spelling, or
    `@s.whatsapp.net`) or `<digits>@lid`."""
    text = value.strip()
    if _USER_ID.match(text):
        return text.replace("@s.whatsapp.net", "@c.us")
    digits = re.sub(r"\D", "", text)
    if _PHONE.match(text) and 5 <= len(digits) <= 20:
        return f"{digits}@c.us"
    raise _invalid(field, f"'{value}' is not a phone number or a WhatsApp user id")


def participant_ids(values: Iterable[str], field: str = "participants") -> list[str]:
    """Each participant normalised, duplicates dropped (first kept); 1 to MAX_PARTICIPANTS of them."""
    ids = list(dict.fromkeys(participant_id(value, field) for value in values))
    if not 1 <= len(ids) <= MAX_PARTICIPANTS:
        raise _invalid(field, f"give 1 to {MAX_PARTICIPANTS} participants")
    return ids


def invite_code(value: str, field: str = "inviteCode") -> str:
    """The code of an invite (a bare code or a `https://chat.whatsapp.com/<code>` link)."""
    code = value.strip().removeprefix("https://").removeprefix("http://")
    code = code.removeprefix("chat.whatsapp.com/").removeprefix("invite/")
    if not _INVITE_CODE.match(code):
        raise _invalid(field, "not an invite code or chat.whatsapp.com link")
    return code


def participants_result(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """OpenWA's ParticipantsResult from per-id `{id, status, message}`: `success` when any change went through
    (a partial refusal is not a failure: `results` says who)."""
    rows = [
        {
            "id": str(row.get("id")),
            "success": int(row.get("status") or 0) == 200,
            "status": int(row.get("status") or 0),
            "message": str(row.get("message") or ""),
        }
        for row in results
    ]
    done = sum(1 for row in rows if row["success"])
    return {"success": done > 0, "message": f"{done} of {len(rows)} participant(s) done", "results": rows}
