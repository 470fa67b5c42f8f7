"""LID addressing: how the page sees 1:1 chats since WhatsApp's LID migration.

Every phone has a LID (`ids.lid_of`, stable). WhatsApp Web addresses most 1:1 chats by it (wa-js
`findOrCreateLatestChat`: "most 1:1 chats are @lid"): message keys and their remotes, `from`/`to`, chat ids,
acks, reactions, revokes, edits and poll votes name `<lid>@lid`, and a group key's participant is the sender's
LID (`generateMessageID.ts`). The network keeps phone numbers, and so does the control API; the page boundary
translates. What goes to the page (`to_page`, for the rpc results and stream events that carry addressing)
names every sandbox phone by its LID; what comes from it (`from_page`, every rpc's arguments) is translated
back. The page's own identity (`me`), contacts, group metadata and the blocklist keep phone numbers, and
`WPP.contact.getPnLidEntry` (rpc `pnLid`) maps one to the other.
"""

from __future__ import annotations

import re
from typing import Any

from runner.sandbox import ids
from runner.sandbox.model import Device
from runner.sandbox.network import Network
from runner.sandbox.rpc import Args, handler

# The rpc results and stream events whose jids WhatsApp Web shows by LID.
ADDRESSED_METHODS = frozenset(
    {"send", "forward", "edit", "delete", "pinMsg", "messages", "messageById", "chat", "chats", "bootstrap"}
)
ADDRESSED_EVENTS = frozenset({"message", "ack", "revoke", "reaction", "edit", "poll", "presence"})
_PHONE_JID = re.compile(r"(?<!\d)([1-9]\d{4,14})@c\.us")
_LID_JID = re.compile(r"(?<!\d)(\d{5,20})@lid")


def to_page(network: Network, value: Any) -> Any:
    """`value` (JSON) with every sandbox phone's `<number>@c.us` as its `<lid>@lid`."""
    phones = network.state.phones

    def swap(match: re.Match[str]) -> str:
        number = match.group(1)
        return ids.lid_of(number) if number in phones else match.group(0)

    return _strings(value, lambda text: _PHONE_JID.sub(swap, text) if "@c.us" in text else text)


def from_page(network: Network, value: Any) -> Any:
    """`value` (JSON) with every sandbox phone's `<lid>@lid` as its `<number>@c.us`."""
    numbers = {ids.lid_of(number).split("@")[0]: number for number in network.state.phones}

    def swap(match: re.Match[str]) -> str:
        number = numbers.get(match.group(1))
        return ids.user_jid(number) if number else match.group(0)

    return _strings(value, lambda text: _LID_JID.sub(swap, text) if "@lid" in text else text)


def rpc_result(network: Network, method: str, result: Any) -> Any:
    """An rpc's result as the page gets it (`bootstrap`: its chats only; `me` keeps the phone number)."""
    if method == "bootstrap" and isinstance(result, dict):
        return {**result, "chats": to_page(network, result.get("chats"))}
    return to_page(network, result) if method in ADDRESSED_METHODS else result


def event(network: Network, data: dict[str, Any]) -> dict[str, Any]:
    """A stream event as the page gets it."""
    return to_page(network, data) if data.get("type") in ADDRESSED_EVENTS else data


def pn_lid_entry(network: Network, jid: str) -> dict[str, Any]:
    """WPP.contact.getPnLidEntry's PnLidEntryResult for a phone jid or a LID (wa-js
    `contact/functions/getPnLidEntry.d.ts`); empty for someone who is not a sandbox phone."""
    phone_jid = from_page(network, jid)
    number = phone_jid.split("@")[0]
    phone = network.state.phones.get(number) if phone_jid.endswith("@c.us") else None
    if phone is None:
        return {}
    name = phone.name
    return {
        "lid": _wid(ids.lid_of(number)),
        "phoneNumber": _wid(phone_jid),
        "contact": {"name": name, "shortName": name.split(" ")[0], "pushname": name, "type": "in"},
    }


def _wid(jid: str) -> dict[str, str]:
    user, server = jid.split("@")
    return {"id": user, "server": server, "_serialized": jid}


def _strings(value: Any, change: Any) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_strings(item, change) for item in value]
    if isinstance(value, dict):
        return {key: _strings(item, change) for key, item in value.items()}
    return value


@handler("pnLid")
def _pn_lid(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        return pn_lid_entry(network, str(args["id"]))
