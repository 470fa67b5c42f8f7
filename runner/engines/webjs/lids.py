"""LIDs -> phone numbers, for what WhatsApp Web reports by LID.

Since WhatsApp's LID migration most 1:1 chats are addressed by `<lid>@lid` (wa-js `findOrCreateLatestChat`;
`registerAckMessageEvent.ts` keys receipts with `remote = ackData.from`), and a group key's participant is a
LID. OpenWA users address people by phone number, so the engine reports phone jids and keeps the LID beside
them (`events.py`: `chatLid`, `waMessageId`). The mapping comes from `WPP.contact.getPnLidEntry` (wa-js
`contact/functions/getPnLidEntry.d.ts`: `{lid, phoneNumber, contact}`), asked once per LID: a LID is stable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

_LID = re.compile(r"(?<!\d)\d{5,20}@lid")
_PN_LID = """async (lids) => Promise.all(lids.map(async (lid) => {
  try {
    const entry = await WPP.contact.getPnLidEntry(lid);
    return entry && entry.phoneNumber ? String(entry.phoneNumber._serialized) : null;
  } catch (error) { return null; }
}))"""

Evaluate = Callable[[str, Any], Awaitable[Any]]


class LidBook:
    """The phone jid of every LID seen so far (unknown ones asked from the page, in one call)."""

    def __init__(self, evaluate: Evaluate) -> None:
        self._evaluate = evaluate
        self._phones: dict[str, str] = {}

    async def phones_in(self, payload: Any) -> Mapping[str, str]:
        """LID -> phone jid for the LIDs in `payload` (those WhatsApp knows no phone number for left out)."""
        found = set(_LID.findall(json.dumps(payload))) if payload is not None else set()
        unknown = sorted(found - self._phones.keys())
        if unknown:
            answers = await self._evaluate(_PN_LID, unknown)
            for lid, phone in zip(unknown, answers or [], strict=False):
                if phone:
                    self._phones[lid] = str(phone)
        return {lid: self._phones[lid] for lid in found if lid in self._phones}


def by_phone(value: Any, phones: Mapping[str, str]) -> Any:
    """`value` (JSON) with every LID in `phones` replaced by its phone jid (inside ids too)."""
    if not phones:
        return value
    if isinstance(value, str):
        return _LID.sub(lambda match: phones.get(match.group(0), match.group(0)), value)
    if isinstance(value, list):
        return [by_phone(item, phones) for item in value]
    if isinstance(value, dict):
        return {key: by_phone(item, phones) for key, item in value.items()}
    return value
