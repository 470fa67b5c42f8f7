"""The webjs engine's optional capabilities: actions on messages, chats, contacts, live history, groups
(`groups.py`), the address book (`address_book.py`), presence (`presence.py`), calls (`phone_calls.py`),
business labels (`labels.py`), channels (`channels.py`), the catalog (`catalog.py`: 501), stories
(`stories.py`) and the account itself (`account.py`).

Each capability is one `page.evaluate` of a `WPP.*` call (longer ones in `calls/*.js`), wrapped in a guard
that hands a wa-js error back as data (`{ok: false, code, message}`) instead of a bare exception text, so it
can be translated here into our domain errors: `msg_not_found` → MESSAGE_NOT_FOUND (404), `chat_not_found`
→ CHAT_NOT_FOUND (404), a refusal (not the sender, not an admin...) → ENGINE_REFUSED (403); the page being
offline or not ready stays an EngineError (the job reports 502). Native names stay in this package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from functions.core.calls import CallNotFound
from functions.core.channels import ChannelInviteInvalid, ChannelNotFound
from functions.core.chats import Capability, ChatNotFound, ContactNotFound, EngineRefused
from functions.core.errors import DomainError
from functions.core.groups import GroupNotFound, InviteCodeInvalid
from functions.core.labels import LabelNotFound, NotABusinessAccount
from functions.core.stories import StatusNotFound
from functions.services.messages import MessageNotFound
from runner.engines.base import EngineError, NotSupportedByEngine
from runner.engines.webjs.account import WebJsAccount
from runner.engines.webjs.address_book import WebJsAddressBook
from runner.engines.webjs.catalog import catalog_table
from runner.engines.webjs.channels import WebJsChannels
from runner.engines.webjs.events import message_data, message_data_by_phone
from runner.engines.webjs.groups import WebJsGroups
from runner.engines.webjs.labels import WebJsLabels
from runner.engines.webjs.lids import LidBook, by_phone
from runner.engines.webjs.phone_calls import WebJsCalls
from runner.engines.webjs.presence import WebJsPresence
from runner.engines.webjs.stories import WebJsStories

Evaluate = Callable[[str, Any], Awaitable[Any]]

_GUARD = """async (arg) => {{
  try {{ return {{ ok: true, value: await ({script})(arg) }}; }}
  catch (error) {{
    const code = String((error && error.code) || 'error');
    return {{ ok: false, code, message: String((error && error.message) || error) }};
  }}
}}"""
# wa-js error codes that mean the page could not act at all (as opposed to WhatsApp refusing the action).
_UNAVAILABLE = frozenset({"error", "offline", "not_ready", "not_authenticated", "not_supported"})
_NOT_FOUND: dict[str, type[DomainError]] = {
    "msg_not_found": MessageNotFound,
    "chat_not_found": ChatNotFound,
    "contact_not_found": ContactNotFound,
    "not_a_group": GroupNotFound,
    "invalid_invite_code": InviteCodeInvalid,
    "number_is_not_your_contact": ContactNotFound,  # WPP.contact.remove: not in the address book
    "call_not_found": CallNotFound,
    "call_is_not_incoming_ring": CallNotFound,  # answered, missed or rejected: no longer ringing
    "error_on_remove_status": StatusNotFound,  # WPP.status.remove: not an own story it can revoke
    # Labels (labels.py): assertIsBusiness, and getLabelById/editLabel for an unknown id.
    "is_not_business": NotABusinessAccount,
    "canot_get_label_error": LabelNotFound,
    "label_not_exist": LabelNotFound,
    # Channels (channels.py): the page function's own code, ensureNewsletter's and follow/unfollow's.
    "channel_not_found": ChannelNotFound,
    "not_a_newsletter": ChannelNotFound,
    "invalid_newsletter_id": ChannelNotFound,
    "channel_invite_invalid": ChannelInviteInvalid,
}
# OpenWA's durationSeconds -> wa-js PinExpiryDurationOption (a number would always mean 7 days).
_PIN_OPTIONS = {86_400: "OneDay", 604_800: "SevenDays", 2_592_000: "ThirtyDays"}
_TYPING = {
    "typing": "async (chat) => { await WPP.chat.markIsComposing(chat); return true; }",
    "recording": "async (chat) => { await WPP.chat.markIsRecording(chat); return true; }",
    "paused": "async (chat) => { await WPP.chat.markIsPaused(chat); return true; }",
}
_READ = "async (chat) => { await WPP.chat.markIsRead(chat); return true; }"
_UNREAD = "async (chat) => { await WPP.chat.markIsUnread(chat); return true; }"
_ARCHIVE = "async ([chat, on]) => (await WPP.chat.archive(chat, on)).archive === on"
_PIN_CHAT = "async ([chat, on]) => (await WPP.chat.pin(chat, on)).pin === on"
_MUTE = "async ([chat, until]) => !!(await WPP.chat.mute(chat, { expiration: until })).isMuted"
_UNMUTE = "async (chat) => { await WPP.chat.unmute(chat); return true; }"
_DELETE_CHAT = "async (chat) => (await WPP.chat.delete(chat)).status === 200"
_CLEAR_CHAT = "async (chat) => (await WPP.chat.clear(chat, false)).status === 200"
_HISTORY = "async ([chat, count]) => await WPP.chat.getMessages(chat, { count })"
_BLOCKED = "async () => WPP.blocklist.all().map((wid) => String(wid._serialized || wid))"
_CHECK = """async (id) => {
  const found = await WPP.contact.queryWidExists(id);
  return found ? String(found.wid._serialized || found.wid) : null;
}"""
_PICTURE = "async (id) => (await WPP.contact.getProfilePictureUrl(id, true)) || null"
_BLOCK = """async ([id, on]) => {
  const result = on ? await WPP.blocklist.blockContact(id) : await WPP.blocklist.unblockContact(id);
  return result.isBlocked === on;
}"""


def _page_function(name: str) -> str:
    """A function kept in `calls/<name>.js` (its leading `//` comment lines dropped)."""
    lines = (Path(__file__).parent / "calls" / f"{name}.js").read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("//"))


_MESSAGE_ACTION = _page_function("message_action")
_LIST_CHATS = _page_function("list_chats")
_CONTACTS = _page_function("contacts")


def translate(code: str, message: str) -> Exception:
    """A wa-js error (its `code`) as ours."""
    if code in _NOT_FOUND:
        return _NOT_FOUND[code](message)
    if code in _UNAVAILABLE:
        return EngineError(message)
    return EngineRefused(message, details={"reason": code})


class WebJsCapabilities:
    """The capabilities by name (`Capability`), over the engine's `page.evaluate`."""

    def __init__(self, evaluate: Evaluate, lids: LidBook | None = None) -> None:
        self._evaluate = evaluate
        self._lids = lids or LidBook(evaluate)
        self._table: dict[str, Callable[..., Awaitable[Any]]] = {
            Capability.MESSAGE_REACT: self.react,
            Capability.MESSAGE_EDIT: self.edit,
            Capability.MESSAGE_DELETE: self.delete_message,
            Capability.MESSAGE_STAR: self.star,
            Capability.MESSAGE_PIN: self.pin_message,
            Capability.MESSAGE_UNPIN: self.unpin_message,
            Capability.MESSAGE_VOTE: self.vote,
            Capability.CHAT_HISTORY: self.history,
            Capability.CHATS: self.chats,
            Capability.CHAT_READ: lambda chat: self._guarded(_READ, chat),
            Capability.CHAT_UNREAD: lambda chat: self._guarded(_UNREAD, chat),
            Capability.CHAT_ARCHIVE: lambda chat, on: self._guarded(_ARCHIVE, [chat, on]),
            Capability.CHAT_PIN: lambda chat, on: self._guarded(_PIN_CHAT, [chat, on]),
            Capability.CHAT_MUTE: self.mute,
            Capability.CHAT_DELETE: lambda chat: self._guarded(_DELETE_CHAT, chat),
            Capability.CHAT_CLEAR: lambda chat: self._guarded(_CLEAR_CHAT, chat),
            Capability.CHAT_TYPING: self.typing,
            Capability.CONTACTS: lambda: self._guarded(_CONTACTS, None),
            Capability.CONTACT: self.contact,
            Capability.CONTACT_CHECK: lambda contact: self._guarded(_CHECK, contact),
            Capability.CONTACT_PICTURE: lambda contact: self._guarded(_PICTURE, contact),
            Capability.CONTACT_BLOCK: lambda contact, on: self._guarded(_BLOCK, [contact, on]),
            Capability.BLOCKED: lambda: self._guarded(_BLOCKED, None),
        }
        self._table.update(WebJsGroups(self._guarded, self._by_phone, _page_function).table())
        self._table.update(WebJsAccount(self._guarded).table())
        self._table.update(WebJsAddressBook(self._guarded).table())
        self._presence = WebJsPresence(self._guarded)
        self._table.update(self._presence.table())
        self._table.update(WebJsCalls(self._guarded).table())
        self._table.update(WebJsStories(self._guarded, _page_function).table())
        self._table.update(WebJsLabels(self._guarded, self._by_phone, _page_function).table())
        self._table.update(WebJsChannels(self._guarded, _page_function).table())
        self._table.update(catalog_table())

    async def run(self, name: str, *args: Any) -> Any:
        """Run capability `name`; NotSupportedByEngine for one this engine does not have."""
        method = self._table.get(name)
        if method is None:
            raise NotSupportedByEngine(f"{name} is not supported by the webjs engine")
        return await method(*args)

    def observe(self, event: str, data: Mapping[str, Any]) -> None:
        """See each event the engine publishes (the last presence per chat is kept: `presence.py`)."""
        self._presence.observe(event, data)

    async def _guarded(self, script: str, arg: Any) -> Any:
        outcome = await self._evaluate(_GUARD.format(script=script), arg)
        if not outcome.get("ok"):
            raise translate(str(outcome.get("code")), str(outcome.get("message")))
        return outcome.get("value")

    async def _act(self, action: str, message_id: str, **args: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._guarded(_MESSAGE_ACTION, [action, message_id, args])
        if result.get("ok") is False:
            raise EngineRefused(f"WhatsApp did not complete '{action}'", details={"messageId": message_id})
        return result

    async def react(self, message_id: str, emoji: str) -> None:
        await self._act("react", message_id, emoji=emoji)

    async def edit(self, message_id: str, text: str, mentions: list[str]) -> None:
        await self._act("edit", message_id, text=text, mentions=mentions)

    async def delete_message(self, chat_id: str, message_id: str, for_everyone: bool) -> None:
        await self._act("delete", message_id, chatId=chat_id, forEveryone=for_everyone)

    async def star(self, message_id: str, star: bool) -> None:
        await self._act("star", message_id, star=star)

    async def pin_message(self, message_id: str, seconds: int) -> None:
        await self._act("pin", message_id, duration=_PIN_OPTIONS.get(seconds, "OneDay"))

    async def unpin_message(self, message_id: str) -> None:
        await self._act("unpin", message_id)

    async def vote(self, message_id: str, options: list[str]) -> None:
        # wa-js (pinned 4.6.0) declares no function to vote in a poll: only getVotes.
        raise NotSupportedByEngine("voting in polls is not supported by the webjs engine")

    async def history(self, chat_id: str, count: int) -> list[dict[str, Any]]:
        """The chat's last `count` messages, oldest first, as OpenWA's IncomingMessage."""
        raws = await self._guarded(_HISTORY, [chat_id, count]) or []
        phones = await self._lids.phones_in(raws)
        return [message_data_by_phone(raw, phones) for raw in raws]

    async def chats(self, offset: int, limit: int) -> dict[str, Any]:
        """`{total, rows}`: rows as the page reads them (`last` is a raw message or None)."""
        page: dict[str, Any] = await self._by_phone(await self._guarded(_LIST_CHATS, [offset, limit]))
        for row in page["rows"]:
            row["last"] = message_data(row["last"]) if row.get("last") else None
        return page

    async def _by_phone(self, value: Any) -> Any:
        """`value` with the LIDs WhatsApp addresses chats by as phone jids (`lids.py`)."""
        return by_phone(value, await self._lids.phones_in(value))

    async def mute(self, chat_id: str, until: int | None) -> bool:
        if until is None:
            return bool(await self._guarded(_UNMUTE, chat_id))
        return bool(await self._guarded(_MUTE, [chat_id, until]))

    async def typing(self, chat_id: str, state: str) -> bool:
        return bool(await self._guarded(_TYPING[state], chat_id))

    async def contact(self, contact_id: str) -> dict[str, Any]:
        found = await self._guarded(_CONTACTS, contact_id)
        if not found:
            raise ContactNotFound(details={"contactId": contact_id})
        contact: dict[str, Any] = found[0]
        try:
            contact["profilePicUrl"] = await self._guarded(_PICTURE, contact_id)
        except (DomainError, EngineError):  # a missing picture must not fail the lookup
            contact["profilePicUrl"] = None
        return contact
