"""Page calls about the account itself: its profile picture (name and about are `profile` in rpc_social) and
its address book, its own presence and the calls ringing on it.

Registered into `rpc.HANDLERS` on import (web.py imports this module). What a phone changes here is what
its contacts see: `picture` (rpc_social) hands out the new picture's URL, `contact` its name. An address-book
entry is the owner's own: `contact`/`contacts` show the saved name (and `isMyContact` false once removed).
"""

from __future__ import annotations

from typing import Any

from runner.sandbox import actions, ids, system
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import Device
from runner.sandbox.network import Network
from runner.sandbox.rpc import Args, chat_id, handler, picture_bytes
from runner.sandbox.views import contact_view


@handler("profile.picture")
def _profile_picture(network: Network, device: Device, args: Args) -> Any:
    """Set the picture (`data`: the base64 JPEG wa-js sends after resizing) or remove it (`data` null)."""
    data = picture_bytes(args)
    with network.lock:
        phone = network.phone(device.number)
        phone.picture = network.store.put_media(data) if data is not None else None
        network.changed()
    return {"status": 200}


def _person(args: Args) -> str:
    """The phone jid of the person `args["id"]` names (web.py has already read a LID as its phone)."""
    jid = chat_id(args, "id")
    if ids.is_group(jid) or not jid.endswith("@c.us"):
        raise BadRequest(f"{jid} is not a person", code="invalid_wid")
    return jid


@handler("contact.save")
def _contact_save(network: Network, device: Device, args: Args) -> Any:
    """Save `id` to the address book as `firstName` [`lastName`]; the contact afterwards."""
    name = " ".join(str(part).strip() for part in (args["firstName"], args.get("lastName")) if part)
    if not name:
        raise BadRequest("a contact needs a name")
    with network.lock:
        jid = _person(args)
        owner = network.phone(device.number)
        owner.address_book[jid] = name
        network.changed()
        return contact_view(network.state, jid, owner)


@handler("contact.remove")
def _contact_remove(network: Network, device: Device, args: Args) -> Any:
    """Remove `id` from the address book: wa-js's `contact_not_found` for someone WhatsApp does not know,
    `number_is_not_your_contact` for someone not in it."""
    with network.lock:
        jid = _person(args)
        owner = network.phone(device.number)
        if ids.number_of(jid) not in network.state.phones:
            raise NotFound("Contact not found", code="contact_not_found")
        if not contact_view(network.state, jid, owner)["isMyContact"]:
            raise BadRequest(f"The number {jid} is not your contact", code="number_is_not_your_contact")
        owner.address_book[jid] = None
        network.changed()
        return contact_view(network.state, jid, owner)


@handler("presence.available")
def _presence_available(network: Network, device: Device, args: Args) -> Any:
    """The account appears online (`available`) or offline to the people it chats with."""
    state = "available" if args["available"] is True else "unavailable"
    with network.lock:
        people = [jid for jid in network.phone(device.number).chats if not ids.is_group(jid)]
        for jid in people:
            actions.presence(network, device.number, jid, state)
    return None


@handler("call.reject")
def _call_reject(network: Network, device: Device, args: Args) -> Any:
    """Reject the call `callId` ringing on this phone (the caller sees it declined)."""
    system.reject_call(network, device.number, str(args["callId"]))
    return True
