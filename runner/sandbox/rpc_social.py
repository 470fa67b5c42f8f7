"""Page calls about people and groups: presence, contacts, block list, profile, groups, logout.

Registered into `rpc.HANDLERS` on import (web.py imports this module).
"""

from __future__ import annotations

from typing import Any

from runner.sandbox import actions, groups, ids
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import Device
from runner.sandbox.network import Network
from runner.sandbox.rpc import Args, chat_id, handler
from runner.sandbox.views import contact_view, group_metadata_view


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
        return contact_view(network.state, chat_id(args, "id"))


@handler("contacts")
def _contacts(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        phone = network.phone(device.number)
        jids = [jid for jid in phone.chats if not ids.is_group(jid)]
        return [contact_view(network.state, jid) for jid in jids]


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
        phone = None if ids.is_group(jid) else network.state.phones.get(ids.number_of(jid))
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


@handler("group.create")
def _group_create(network: Network, device: Device, args: Args) -> Any:
    members = [ids.number_of(ids.parse_chat_id(p, field="participants")) for p in args["participants"]]
    group = groups.create(network, device.number, str(args["name"]), members)
    codes = {ids.user_jid(n): 200 for n in group.participants if n != device.number}
    return {"gid": group.id, "participants": codes, "inviteCode": group.invite_code}


@handler("group.participants")
def _group_participants(network: Network, device: Device, args: Args) -> Any:
    numbers = [ids.number_of(ids.parse_chat_id(p, field="participants")) for p in args["participants"]]
    return groups.change_participants(
        network, device.number, chat_id(args, "groupId"), args["operation"], numbers
    )


@handler("group.metadata")
def _group_metadata(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        group = groups.group_for(network, chat_id(args, "groupId"), device.number)
        return {**(group_metadata_view(network.state, group.id) or {}), "inviteCode": group.invite_code}


@handler("group.all")
def _group_all(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        mine = [g.id for g in network.state.groups.values() if device.number in g.participants]
        return [group_metadata_view(network.state, gid) for gid in mine]


@handler("group.set")
def _group_set(network: Network, device: Device, args: Args) -> Any:
    group_id = chat_id(args, "groupId")
    if "subject" in args:
        groups.set_subject(network, device.number, group_id, str(args["subject"]))
    if "description" in args:
        groups.set_description(network, device.number, group_id, str(args["description"]))
    return True


@handler("group.revokeInvite")
def _group_revoke_invite(network: Network, device: Device, args: Args) -> Any:
    return groups.revoke_invite(network, device.number, chat_id(args, "groupId"))


@handler("group.join")
def _group_join(network: Network, device: Device, args: Args) -> Any:
    group = groups.join(network, device.number, str(args["code"]))
    return {"id": group.id}


@handler("group.infoFromInvite")
def _group_info(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        group = next((g for g in network.state.groups.values() if g.invite_code == args["code"]), None)
        if group is None:
            raise NotFound("the invite code is not valid", code="invite_invalid")
        return group_metadata_view(network.state, group.id)


@handler("group.leave")
def _group_leave(network: Network, device: Device, args: Args) -> Any:
    groups.leave(network, device.number, chat_id(args, "groupId"))
    return None
