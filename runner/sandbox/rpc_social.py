"""Page calls about people: presence, contacts, block list, profile, pictures, logout (groups: rpc_groups).

Registered into `rpc.HANDLERS` on import (web.py imports this module).
"""

from __future__ import annotations

from typing import Any

from runner.sandbox import actions, ids
from runner.sandbox.errors import BadRequest
from runner.sandbox.model import Device
from runner.sandbox.network import Network
from runner.sandbox.rpc import Args, chat_id, handler
from runner.sandbox.views import contact_view


@handler("presence")
def _presence(network: Network, device: Device, args: Args) -> Any:
    state = str(args["state"])
    if state not in ("composing", "recording", "paused", "available", "unavailable"):
        raise BadRequest(f"unknown presence state {state}")
    actions.presence(network, device.number, chat_id(args), state)
    return None


@handler("contact")
def _contact(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        return contact_view(network.state, chat_id(args, "id"), network.phone(device.number))


@handler("contacts")
def _contacts(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        phone = network.phone(device.number)
        jids = [jid for jid in phone.chats if not ids.is_group(jid)]
        return [contact_view(network.state, jid, phone) for jid in jids]


@handler("queryExists")
def _query_exists(network: Network, device: Device, args: Args) -> Any:
    jid = chat_id(args, "id")
    with network.lock:
        if ids.is_group(jid) or ids.number_of(jid) not in network.state.phones:
            return None
        return {"wid": jid, "biz": False}


@handler("about")
def _about(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        phone = network.state.phones.get(ids.number_of(chat_id(args, "id")))
        return phone.about if phone else None


@handler("picture")
def _picture(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        jid = chat_id(args, "id")
        if ids.is_group(jid):
            group = network.state.groups.get(jid)
            return f"/_wa/picture/{jid}" if group and group.picture else None
        phone = network.state.phones.get(ids.number_of(jid))
        return f"/_wa/picture/{phone.number}" if phone and phone.picture else None


@handler("block")
def _block(network: Network, device: Device, args: Args) -> Any:
    jid = chat_id(args, "id")
    if ids.is_group(jid):
        raise BadRequest("only users can be blocked")
    blocked = actions.set_blocked(network, device.number, jid, bool(args["blocked"]))
    return {"wid": jid, "isBlocked": blocked}


@handler("profile")
def _profile(network: Network, device: Device, args: Args) -> Any:
    """Change (when given) and return the own profile: name, about."""
    with network.lock:
        phone = network.phone(device.number)
        if isinstance(args.get("name"), str) and args["name"].strip():
            phone.name = args["name"]
        if isinstance(args.get("about"), str):
            phone.about = args["about"]
        network.changed()
        return {"name": phone.name, "about": phone.about}


@handler("logout")
def _logout(network: Network, device: Device, args: Args) -> Any:
    network.unlink(device, by_phone=False)
    return True
