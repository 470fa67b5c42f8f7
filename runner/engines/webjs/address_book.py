"""The webjs engine's address-book and lookup capabilities (`Capability.CONTACT_SAVE`, `CONTACT_REMOVE`,
`CONTACT_PHONE`, `CONTACT_PICTURES`), over wa-js's `WPP.contact.*`.

Each is a guarded `page.evaluate` (`capabilities.WebJsCapabilities._guarded`). wa-js's `save`/`remove`
answer the contact's model afterwards (or undefined); `getPnLidEntry` answers `{lid, phoneNumber, contact}`
for a phone jid or a LID (`phoneNumber` absent when WhatsApp knows no number for it). A batch of pictures is
one page call; a lookup that fails is `null` for that id, the others stand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from functions.core.chats import Capability

Guarded = Callable[[str, Any], Awaitable[Any]]

_SAVE = """async ([id, firstName, lastName]) => {
  const options = { syncAddressBook: true };
  if (lastName) options.lastName = lastName;
  return !!(await WPP.contact.save(id, firstName, options));
}"""
_REMOVE = "async (id) => { await WPP.contact.remove(id); return true; }"
_PHONE = """async (id) => {
  const entry = await WPP.contact.getPnLidEntry(id);
  return entry && entry.phoneNumber ? String(entry.phoneNumber._serialized || entry.phoneNumber) : null;
}"""
_PICTURES = """async (ids) => Object.fromEntries(await Promise.all(ids.map(async (id) => {
  try { return [id, (await WPP.contact.getProfilePictureUrl(id, true)) || null]; }
  catch (error) { return [id, null]; }
})))"""


class WebJsAddressBook:
    """The address-book capabilities by name; `guarded` runs a page function."""

    def __init__(self, guarded: Guarded) -> None:
        self._guarded = guarded

    def table(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        return {
            Capability.CONTACT_SAVE: lambda jid, first, last: self._guarded(_SAVE, [jid, first, last]),
            Capability.CONTACT_REMOVE: lambda jid: self._guarded(_REMOVE, jid),
            Capability.CONTACT_PHONE: lambda jid: self._guarded(_PHONE, jid),
            Capability.CONTACT_PICTURES: lambda ids: self._guarded(_PICTURES, ids),
        }
