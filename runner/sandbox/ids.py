"""WhatsApp-shaped identifiers: jids, message ids, QR strings and pairing codes.

Pure functions; the formats copy what WhatsApp Web shows so that code written against the sandbox parses real
values too.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

# WhatsApp's pairing-code alphabet (Crockford base32 without 0, I, O and U), as in the companion-link flow.
PAIRING_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"
PAIRING_CODE_LENGTH = 8
USER_SERVER = "c.us"
GROUP_SERVER = "g.us"
LID_SERVER = "lid"
_NUMBER = re.compile(r"^[1-9][0-9]{4,14}$")
_USER_JID = re.compile(r"^([1-9][0-9]{4,14})@c\.us$")
_GROUP_JID = re.compile(r"^([0-9]{5,30}(?:-[0-9]{5,15})?)@g\.us$")
_MESSAGE_ID = re.compile(r"^[0-9A-Za-z]{6,64}$")


class InvalidId(ValueError):
    """An id that WhatsApp would not accept; the message says which and why."""


def is_number(value: object) -> bool:
    """True for a phone number as WhatsApp stores it: 5-15 digits, country code first, no '+'."""
    return isinstance(value, str) and bool(_NUMBER.match(value))


def user_jid(number: str) -> str:
    return f"{number}@{USER_SERVER}"


def lid_of(number: str) -> str:
    """The phone's LID (`<digits>@lid`): WhatsApp's stable per-account id since the LID migration, unrelated
    to the number; derived here so that it never changes for a number."""
    digest = int(hashlib.sha256(number.encode()).hexdigest(), 16)
    return f"{10**14 + digest % (9 * 10**14)}@{LID_SERVER}"


def is_lid(jid: str) -> bool:
    return jid.endswith("@" + LID_SERVER)


def is_group(jid: str) -> bool:
    return jid.endswith("@" + GROUP_SERVER)


def parse_chat_id(value: object, *, field: str = "chat") -> str:
    """A normalised chat jid (`<number>@c.us` or `<id>@g.us`); a bare number becomes a user jid.

    Raises InvalidId naming `field` for anything else (`@s.whatsapp.net` is accepted as a user alias).
    """
    if not isinstance(value, str) or not value:
        raise InvalidId(f"{field} must be a chat id such as 15551234567@c.us")
    text = value.strip().replace("@s.whatsapp.net", "@c.us")
    if is_number(text):
        return user_jid(text)
    if _USER_JID.match(text) or _GROUP_JID.match(text):
        return text
    raise InvalidId(f"{field} is not a valid chat id: {value!r}")


def number_of(jid: str) -> str:
    """The number of a user jid (`155...@c.us` → `155...`)."""
    match = _USER_JID.match(jid)
    if not match:
        raise InvalidId(f"not a user id: {jid!r}")
    return match.group(1)


def new_message_id() -> str:
    """A new message id as WhatsApp Web makes them: `3EB0` and 16-20 uppercase hex digits."""
    return "3EB0" + secrets.token_hex(secrets.choice((8, 9, 10))).upper()


def check_message_id(value: object) -> str:
    """A caller-chosen message id (SendMessageOptions.messageId), bare or serialised; returns the bare id."""
    if not isinstance(value, str):
        raise InvalidId("messageId must be a string")
    bare = value.split("_")[2] if value.startswith(("true_", "false_")) and value.count("_") >= 2 else value
    if not _MESSAGE_ID.match(bare):
        raise InvalidId(f"messageId is not a valid message id: {value!r}")
    return bare


def serialize_key(from_me: bool, remote: str, message_id: str, participant: str | None = None) -> str:
    """`true_<remote>_<ID>` / `false_<remote>_<ID>`, with `_<participant>` appended in groups."""
    base = f"{'true' if from_me else 'false'}_{remote}_{message_id}"
    return f"{base}_{participant}" if participant else base


def new_group_id() -> str:
    """A group jid in the current `1203634...@g.us` form."""
    return f"120363{secrets.randbelow(10**12):012d}@{GROUP_SERVER}"


def new_invite_code() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")[:22]


def _b64(size: int) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode()


def new_qr_string() -> tuple[str, str]:
    """(ref, raw QR string) shaped like WhatsApp Web's: `<ref>,<noise key>,<identity key>,<adv secret>`."""
    ref = "2@" + _b64(48)
    return ref, f"{ref},{_b64(32)},{_b64(32)},{_b64(32)}"


# What WhatsApp Web puts in its QR image around wa-js's `fullCode`: a wa.me link (so a phone's camera app
# opens WhatsApp's "Link a device") and, after the code, the companion platform id (1: a web client).
QR_LINK_PREFIX = "https://wa.me/settings/linked_devices#"
WEB_COMPANION_PLATFORM = "1"


def scanned_code(value: str) -> str | None:
    """The `<ref>,<key>,<key>,<secret>` a phone reads from a QR: the bare code, or WhatsApp Web's image
    form (`QR_LINK_PREFIX` + code + `,<platform>`); None for anything else."""
    text = value.strip()
    if text.startswith(QR_LINK_PREFIX):
        parts = text.removeprefix(QR_LINK_PREFIX).split(",")
        return ",".join(parts[:4]) if len(parts) == 5 and parts[4].isdigit() else None
    return text if text.count(",") == 3 else None


def new_pairing_code() -> str:
    return "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))


def normalise_pairing_code(value: object) -> str:
    """The code without the dash or spaces WhatsApp shows it with (`ABCD-EFGH`), uppercased."""
    if not isinstance(value, str):
        raise InvalidId("pairingCode must be a string")
    code = value.replace("-", "").replace(" ", "").upper()
    if len(code) != PAIRING_CODE_LENGTH or any(ch not in PAIRING_ALPHABET for ch in code):
        raise InvalidId(f"pairingCode must be {PAIRING_CODE_LENGTH} characters of {PAIRING_ALPHABET}")
    return code


def new_token() -> str:
    """A device credential (kept by the page in IndexedDB/localStorage)."""
    return secrets.token_urlsafe(32)
