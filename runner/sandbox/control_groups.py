"""The control API's groups (`/_sandbox/groups...`): the phones' side of group life.

A phone creates a group, adds or removes people, renames it, changes its settings or picture, joins by an
invite code, asks to join, leaves; a test reads a group back (with its invite code and pending requests).
Bodies follow `control.body`'s rules; refusals are the network's (400 `not_admin`, 404 `group_not_found`...).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, Response, jsonify

from runner.sandbox import group_settings, groups, ids
from runner.sandbox.control import _number, body
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.network import Network
from runner.sandbox.views import group_metadata_view
from runner.sandbox.web import network

control_groups = Blueprint("control_groups", __name__, url_prefix="/_sandbox/groups")
# PATCH fields -> (wa-js GroupProperty or ours, the value's type).
_SETTINGS: dict[str, tuple[str, type]] = {
    "announce": ("announcement", bool),
    "restrict": ("restrict", bool),
    "memberAddMode": ("member_add_mode", str),
    "approval": ("membership_approval_mode", bool),
    "ephemeral": ("ephemeral", int),
}


def _numbers(values: Any) -> list[str]:
    if not isinstance(values, list):
        raise BadRequest("participants must be a list of phone numbers")
    return [_number(p.split("@")[0] if isinstance(p, str) else p, "participants") for p in values]


def _view(net: Network, group_id: str) -> dict[str, Any]:
    """The group as the network has it, with what members' pages do not see: invite code, requests."""
    with net.lock:
        view = group_metadata_view(net.state, group_id)
        group = net.state.groups.get(group_id)
        if view is None or group is None:
            raise NotFound(f"no group {group_id}", code="group_not_found")
        requests = [{"id": ids.user_jid(number), **req} for number, req in group.requests.items()]
        return {**view, "inviteCode": group.invite_code, "picture": group.picture, "requests": requests}


@control_groups.post("")
def create_group() -> tuple[Response, int]:
    data = body({"owner", "subject", "participants"}, {"owner", "subject"})
    net = network()
    group = groups.create(
        net, _number(data["owner"], "owner"), str(data["subject"]), _numbers(data.get("participants", []))
    )
    return jsonify(_view(net, group.id)), 201


@control_groups.get("/<group_id>")
def get_group(group_id: str) -> Response:
    return jsonify(_view(network(), group_id))


@control_groups.post("/<group_id>/participants")
def group_participants(group_id: str) -> Response:
    data = body({"actor", "operation", "participants"}, {"actor", "operation", "participants"})
    actor, numbers = _number(data["actor"], "actor"), _numbers(data["participants"])
    return jsonify(groups.change_participants(network(), actor, group_id, data["operation"], numbers))


@control_groups.patch("/<group_id>")
def update_group(group_id: str) -> Response:
    """A member (`actor`) changes the group's `subject`, `description`, settings (`announce`, `restrict`,
    `memberAddMode`: admin_add | all_member_add, `approval`, `ephemeral` seconds) or `picture` (base64, or
    null to remove it)."""
    data = body({"actor", "subject", "description", "picture", *_SETTINGS}, {"actor"})
    net, actor = network(), _number(data["actor"], "actor")
    if isinstance(data.get("subject"), str):
        groups.set_subject(net, actor, group_id, data["subject"])
    if isinstance(data.get("description"), str):
        groups.set_description(net, actor, group_id, data["description"])
    for field, (prop, kind) in _SETTINGS.items():
        if field in data:
            if not isinstance(data[field], kind) or (kind is int and isinstance(data[field], bool)):
                raise BadRequest(f"{field} must be a {kind.__name__}")
            group_settings.set_property(net, actor, group_id, prop, data[field])
    if "picture" in data:
        group_settings.set_picture(net, actor, group_id, _picture(data["picture"]))
    return jsonify(_view(net, group_id))


def _picture(value: Any) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("picture must be base64 (or null to remove it)") from exc


@control_groups.post("/<group_id>/join-requests")
def group_join_request(group_id: str) -> tuple[Response, int]:
    """Phone `number` asks to join the group; its admins get the request."""
    data = body({"number"}, {"number"})
    number = _number(data["number"], "number")
    groups.request_join(network(), number, group_id)
    return jsonify(groupId=group_id, number=number), 201


@control_groups.post("/join")
def join_by_invite() -> Response:
    """Phone `number` opens an invite link (`code`): it joins, or its request waits for approval."""
    data = body({"number", "code"}, {"number", "code"})
    group, pending = groups.join(network(), _number(data["number"], "number"), str(data["code"]))
    return jsonify(groupId=group.id, pendingApproval=pending)


@control_groups.post("/<group_id>/invite-code/revoke")
def revoke_invite(group_id: str) -> Response:
    """An admin (`actor`) revokes the invite link: the old code stops working."""
    data = body({"actor"}, {"actor"})
    return jsonify(inviteCode=groups.revoke_invite(network(), _number(data["actor"], "actor"), group_id))


@control_groups.post("/<group_id>/leave")
def leave_group(group_id: str) -> Response:
    data = body({"number"}, {"number"})
    groups.leave(network(), _number(data["number"], "number"), group_id)
    return jsonify(groupId=group_id, left=True)
