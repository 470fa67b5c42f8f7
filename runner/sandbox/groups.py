"""Groups: create, participants (add, remove, promote, demote), subject, description, invite codes, leave.

Membership changes reach every member's devices as `group.participant_changed` (wa-js's event shape).
"""

from __future__ import annotations

import time

from runner.sandbox import ids
from runner.sandbox.errors import BadRequest, Conflict, NotFound
from runner.sandbox.model import ROLE_ADMIN, ROLE_MEMBER, ROLE_SUPERADMIN, Group
from runner.sandbox.network import Network

OPERATIONS = ("add", "remove", "promote", "demote")
_OPERATION_OF = {"create": "add", "join": "add", "leaver": "remove"}


def create(network: Network, owner: str, subject: str, members: list[str]) -> Group:
    """A new group owned by `owner` with `members` (numbers that must exist)."""
    with network.lock:
        network.phone(owner)
        for number in members:
            network.phone(number)
        if not subject.strip():
            raise BadRequest("a group needs a subject", code="bad_subject")
        group = Group(id=ids.new_group_id(), subject=subject, owner=owner, t=int(time.time()))
        group.participants[owner] = ROLE_SUPERADMIN
        for number in members:
            group.participants.setdefault(number, ROLE_MEMBER)
        group.invite_code = ids.new_invite_code()
        network.state.groups[group.id] = group
        for number in group.participants:
            network.chat_state(number, group.id).t = group.t
        _announce(network, group, owner, "create", list(group.participants))
        network.changed()
        return group


def group_for(network: Network, group_id: str, actor: str, *, admin: bool = False) -> Group:
    """The group, checking that `actor` is a member (and an admin when `admin`)."""
    group = network.state.groups.get(group_id)
    if group is None or actor not in group.participants:
        raise NotFound(f"group {group_id} not found", code="group_not_found")
    if admin and group.participants[actor] == ROLE_MEMBER:
        raise BadRequest("you are not an admin of this group", code="not_admin")
    return group


def change_participants(
    network: Network, actor: str, group_id: str, operation: str, numbers: list[str]
) -> dict[str, int]:
    """Apply `operation` to `numbers`; returns a per-jid status code (200, 403 not allowed, 404, 409)."""
    if operation not in OPERATIONS:
        raise BadRequest(f"operation must be one of {', '.join(OPERATIONS)}")
    with network.lock:
        group = group_for(network, group_id, actor, admin=True)
        results: dict[str, int] = {}
        changed: list[str] = []
        for number in numbers:
            code = _apply(network, group, operation, number)
            results[ids.user_jid(number)] = code
            if code == 200:
                changed.append(number)
        if changed:
            _announce(network, group, actor, operation, changed)
            if operation == "remove":
                group.past.extend(changed)
            network.changed()
        return results


def _apply(network: Network, group: Group, operation: str, number: str) -> int:
    present = number in group.participants
    if number not in network.state.phones:
        return 404
    if operation == "add":
        if present:
            return 409
        group.participants[number] = ROLE_MEMBER
        network.chat_state(number, group.id).t = int(time.time())
        return 200
    if not present or group.participants[number] == ROLE_SUPERADMIN:
        return 403 if present else 404
    if operation == "remove":
        del group.participants[number]
    else:
        group.participants[number] = ROLE_ADMIN if operation == "promote" else ROLE_MEMBER
    return 200


def _announce(network: Network, group: Group, actor: str, action: str, numbers: list[str]) -> None:
    author = network.state.phones.get(actor)
    event = {
        "type": "group",
        "groupId": group.id,
        "action": action,
        "operation": action if action in OPERATIONS else _OPERATION_OF[action],
        "participants": [ids.user_jid(number) for number in numbers],
        "author": ids.user_jid(actor),
        "authorPushName": author.name if author else "",
    }
    for number in {*group.participants, *numbers}:
        if number in network.state.phones:
            network.publish(number, event)


def set_subject(network: Network, actor: str, group_id: str, subject: str) -> Group:
    with network.lock:
        group = group_for(network, group_id, actor)
        if not subject.strip():
            raise BadRequest("a group needs a subject", code="bad_subject")
        group.subject = subject
        network.changed()
        return group


def set_description(network: Network, actor: str, group_id: str, description: str) -> Group:
    with network.lock:
        group = group_for(network, group_id, actor)
        group.description = description
        network.changed()
        return group


def revoke_invite(network: Network, actor: str, group_id: str) -> str:
    with network.lock:
        group = group_for(network, group_id, actor, admin=True)
        group.invite_code = ids.new_invite_code()
        network.changed()
        return group.invite_code


def join(network: Network, number: str, code: str) -> Group:
    """Join by invite code (the `chat.whatsapp.com/<code>` part)."""
    with network.lock:
        network.phone(number)
        group = next((g for g in network.state.groups.values() if g.invite_code == code), None)
        if group is None:
            raise NotFound("the invite code is not valid", code="invite_invalid")
        if number in group.participants:
            raise Conflict("already a member of this group", code="already_member")
        group.participants[number] = ROLE_MEMBER
        network.chat_state(number, group.id).t = int(time.time())
        _announce(network, group, number, "join", [number])
        network.changed()
        return group


def leave(network: Network, number: str, group_id: str) -> None:
    with network.lock:
        group = group_for(network, group_id, number)
        _announce(network, group, number, "leaver", [number])
        del group.participants[number]
        group.past.append(number)
        if group.participants and ROLE_SUPERADMIN not in group.participants.values():
            # WhatsApp hands the group to another member when the creator leaves.
            group.participants[next(iter(group.participants))] = ROLE_SUPERADMIN
        network.changed()
