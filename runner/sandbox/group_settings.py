"""Group settings and picture: announce, restrict (locked info), member-add mode, membership approval,
disappearing messages, the group's icon.

Settings are admins' work (WhatsApp shows the switches to admins only); the picture is "group info", so
anyone may change it unless the group is locked. Members see each change as a `gp2` message, as WhatsApp
pushes it: `announce` and `restrict` with body `on`/`off`, `picture` (whatsapp-web.js's GroupNotification
types); the member-add mode, approval mode and timer change the group's metadata without a notice here.
"""

from __future__ import annotations

from runner.sandbox import groups, system
from runner.sandbox.errors import BadRequest
from runner.sandbox.model import Group
from runner.sandbox.network import Network

# wa-js setProperty's allowed ephemeral durations (seconds; 0 turns the timer off).
EPHEMERAL_SECONDS = (0, 86_400, 604_800, 7_776_000)
MEMBER_ADD_MODES = ("admin_add", "all_member_add")
PROPERTIES = ("announcement", "restrict", "ephemeral", "member_add_mode", "membership_approval_mode")


def set_property(network: Network, actor: str, group_id: str, prop: str, value: object) -> Group:
    """An admin changes one setting (`PROPERTIES`; wa-js GroupProperty names where it has them)."""
    if prop not in PROPERTIES:
        raise BadRequest(f"unknown group property {prop}", code="invalid_property")
    with network.lock:
        group = groups.group_for(network, group_id, actor, admin=True)
        if prop == "ephemeral":
            if value not in EPHEMERAL_SECONDS or isinstance(value, bool):
                raise BadRequest("invalid ephemeral duration", code="invalid_ephemeral_duration")
            group.ephemeral = int(value)
        elif prop == "member_add_mode":
            if value not in MEMBER_ADD_MODES:
                raise BadRequest(f"member add mode must be one of {', '.join(MEMBER_ADD_MODES)}")
            group.member_add_mode = str(value)
        elif prop == "membership_approval_mode":
            group.approval = bool(value)
        else:
            on = bool(value)
            subtype = "announce" if prop == "announcement" else "restrict"
            setattr(group, subtype, on)
            notice = "on" if on else "off"
            system.group_notice(network, group.id, list(group.participants), actor, subtype, body=notice)
        network.changed()
        return group


def set_picture(network: Network, actor: str, group_id: str, data: bytes | None) -> Group:
    """Set (bytes) or remove (None) the group's icon."""
    with network.lock:
        group = groups.group_for(network, group_id, actor)
        if group.restrict and not groups.is_admin(group, actor):
            raise BadRequest("only admins can edit this group's info", code="not_admin")
        if data is None and group.picture is None:
            return group
        group.picture = network.store.put_media(data) if data is not None else None
        members = list(group.participants)
        system.group_notice(network, group.id, members, actor, "picture", body="set" if data else "removed")
        network.changed()
        return group
