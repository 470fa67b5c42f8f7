"""Page calls about groups: create, participants, info, invite links, settings, picture, join requests.

Registered into `rpc.HANDLERS` on import (web.py imports this module). Refusals carry the codes wa-js gives
the same refusals (`participant_not_exists`, `invalid_invite_code`, `not_admin`...).
"""

from __future__ import annotations

from typing import Any

from runner.sandbox import group_settings, groups, ids
from runner.sandbox.errors import BadRequest
from runner.sandbox.model import Device
from runner.sandbox.network import Network
from runner.sandbox.rpc import Args, chat_id, handler, picture_bytes
from runner.sandbox.views import group_metadata_view


def _numbers(network: Network, args: Args, *, must_exist: bool = False) -> list[str]:
    numbers = [ids.number_of(ids.parse_chat_id(p, field="participants")) for p in args["participants"]]
    if must_exist:
        for number in numbers:
            if number not in network.state.phones:
                raise BadRequest("Participant not exists", code="participant_not_exists")
    return numbers


@handler("group.create")
def _group_create(network: Network, device: Device, args: Args) -> Any:
    members = [n for n in _numbers(network, args, must_exist=True) if n != device.number]
    group = groups.create(network, device.number, str(args["name"]), members)
    codes = {ids.user_jid(n): 200 for n in group.participants if n != device.number}
    return {"gid": group.id, "participants": codes, "inviteCode": group.invite_code}


@handler("group.participants")
def _group_participants(network: Network, device: Device, args: Args) -> Any:
    return groups.change_participants(
        network, device.number, chat_id(args, "groupId"), args["operation"], _numbers(network, args)
    )


@handler("group.metadata")
def _group_metadata(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        group = groups.group_for(network, chat_id(args, "groupId"), device.number)
        return group_metadata_view(network.state, group.id)


@handler("group.inviteCode")
def _group_invite_code(network: Network, device: Device, args: Args) -> Any:
    """WhatsApp tells the invite code to admins only."""
    with network.lock:
        return groups.group_for(network, chat_id(args, "groupId"), device.number, admin=True).invite_code


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


@handler("group.property")
def _group_property(network: Network, device: Device, args: Args) -> Any:
    group_id = chat_id(args, "groupId")
    group_settings.set_property(network, device.number, group_id, str(args["property"]), args["value"])
    return True


@handler("group.picture")
def _group_picture(network: Network, device: Device, args: Args) -> Any:
    """Set the icon (`data`: base64 JPEG, as wa-js sends the resized picture) or remove it (`data` null)."""
    data = picture_bytes(args)
    group_settings.set_picture(network, device.number, chat_id(args, "groupId"), data)
    return {"status": 200}


@handler("group.revokeInvite")
def _group_revoke_invite(network: Network, device: Device, args: Args) -> Any:
    return groups.revoke_invite(network, device.number, chat_id(args, "groupId"))


@handler("group.join")
def _group_join(network: Network, device: Device, args: Args) -> Any:
    group, pending = groups.join(network, device.number, str(args["code"]))
    return {"id": group.id, "pendingApproval": pending}


@handler("group.infoFromInvite")
def _group_info(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        return group_metadata_view(network.state, groups.by_invite(network, str(args["code"])).id)


@handler("group.leave")
def _group_leave(network: Network, device: Device, args: Args) -> Any:
    groups.leave(network, device.number, chat_id(args, "groupId"))
    return None


_METHODS = {
    "invite_link": "InviteLink",
    "non_admin_add": "NonAdminAdd",
    "linked_group_join": "LinkedGroupJoin",
}


@handler("group.requests")
def _group_requests(network: Network, device: Device, args: Args) -> Any:
    """Pending membership requests, for admins (wa-js getMembershipRequests' shape)."""
    with network.lock:
        group = groups.group_for(network, chat_id(args, "groupId"), device.number, admin=True)
        return [
            {
                "id": ids.user_jid(number),
                "addedBy": ids.user_jid(request.get("addedBy") or number),
                "requestMethod": _METHODS.get(str(request.get("method")), "InviteLink"),
                "t": request.get("t"),
            }
            for number, request in group.requests.items()
        ]


@handler("group.answerRequests")
def _group_answer_requests(network: Network, device: Device, args: Args) -> Any:
    group_id, approve = chat_id(args, "groupId"), bool(args["approve"])
    return groups.answer_requests(network, device.number, group_id, _numbers(network, args), approve=approve)
