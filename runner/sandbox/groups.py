"""Groups: create, participants (add, remove, promote, demote), subject, description, invite codes, leave,
membership requests (settings and the picture: `group_settings.py`).

WhatsApp's rules: participants change by admins only, except adds when the member-add mode is
`all_member_add`; a locked (`restrict`) group's info changes by admins only; a group that approves new
members (`approval`) turns an invite-link join into a request an admin approves or rejects.

Every change reaches the members' devices as WhatsApp pushes it: a `gp2` message (its subtype: create, add,
invite, remove, leave, promote, demote, subject, description, membership_approval_request), and for
membership changes also `group.participant_changed` (wa-js's event shape and actions: add, remove, promote,
demote, join for an invite link, leave when the author removed themself; none for a creation, which wa-js
registerParticipantsChangedEvent.ts does not report).
"""

from __future__ import annotations

import time

from runner.sandbox import ids, system
from runner.sandbox.errors import BadRequest, Conflict, NotFound
from runner.sandbox.model import ROLE_ADMIN, ROLE_MEMBER, ROLE_SUPERADMIN, Group
from runner.sandbox.network import Network

OPERATIONS = ("add", "remove", "promote", "demote")
_OPERATION_OF = {"create": "add", "join": "add", "leave": "remove"}
# The gp2 subtype WhatsApp uses for each action.
_SUBTYPE_OF = {"join": "invite"}


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
    if admin and not is_admin(group, actor):
        raise BadRequest("you are not an admin of this group", code="not_admin")
    return group


def is_admin(group: Group, number: str) -> bool:
    return group.participants.get(number, ROLE_MEMBER) != ROLE_MEMBER


def _may_edit_info(group: Group, actor: str) -> None:
    """WhatsApp's "edit group info" rule: anyone, unless the group is locked (`restrict`) to admins."""
    if group.restrict and not is_admin(group, actor):
        raise BadRequest("only admins can edit this group's info", code="not_admin")


def change_participants(
    network: Network, actor: str, group_id: str, operation: str, numbers: list[str]
) -> dict[str, int]:
    """Apply `operation` to `numbers`; returns a per-jid status code (200, 403 not allowed, 404, 409)."""
    if operation not in OPERATIONS:
        raise BadRequest(f"operation must be one of {', '.join(OPERATIONS)}")
    with network.lock:
        # Adding is open to every member when the group's member-add mode says so; the rest is admins' work.
        known = network.state.groups.get(group_id)
        open_add = operation == "add" and known is not None and known.member_add_mode == "all_member_add"
        group = group_for(network, group_id, actor, admin=not open_add)
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
    members = sorted({*group.participants, *numbers})
    recipients = [ids.user_jid(number) for number in numbers]
    system.group_notice(
        network, group.id, members, actor, _SUBTYPE_OF.get(action, action), recipients=recipients
    )
    if action == "create":
        return
    for number in members:
        if number in network.state.phones:
            network.publish(number, event)


def set_subject(network: Network, actor: str, group_id: str, subject: str) -> Group:
    with network.lock:
        group = group_for(network, group_id, actor)
        _may_edit_info(group, actor)
        if not subject.strip():
            raise BadRequest("a group needs a subject", code="bad_subject")
        group.subject = subject
        system.group_notice(network, group.id, list(group.participants), actor, "subject", body=subject)
        network.changed()
        return group


def set_description(network: Network, actor: str, group_id: str, description: str) -> Group:
    with network.lock:
        group = group_for(network, group_id, actor)
        _may_edit_info(group, actor)
        group.description = description
        members = list(group.participants)
        system.group_notice(network, group.id, members, actor, "description", body=description)
        network.changed()
        return group


def revoke_invite(network: Network, actor: str, group_id: str) -> str:
    with network.lock:
        group = group_for(network, group_id, actor, admin=True)
        group.invite_code = ids.new_invite_code()
        network.changed()
        return group.invite_code


def by_invite(network: Network, code: str) -> Group:
    """The group an invite code (the `chat.whatsapp.com/<code>` part) opens; NotFound once revoked."""
    group = next((g for g in network.state.groups.values() if code and g.invite_code == code), None)
    if group is None:
        raise NotFound("the invite code is not valid", code="invalid_invite_code")
    return group


def join(network: Network, number: str, code: str) -> tuple[Group, bool]:
    """Join by invite code; `(group, pending)`: pending when the group approves new members first (the
    request then waits for an admin, as `request_join`)."""
    with network.lock:
        network.phone(number)
        group = by_invite(network, code)
        if number in group.participants:
            raise Conflict("already a member of this group", code="already_member")
        if group.approval:
            _request(network, group, number, "invite_link", None)
            return group, True
        group.participants[number] = ROLE_MEMBER
        network.chat_state(number, group.id).t = int(time.time())
        _announce(network, group, number, "join", [number])
        network.changed()
        return group, False


def leave(network: Network, number: str, group_id: str) -> None:
    with network.lock:
        group = group_for(network, group_id, number)
        _announce(network, group, number, "leave", [number])
        del group.participants[number]
        group.past.append(number)
        if group.participants and ROLE_SUPERADMIN not in group.participants.values():
            # WhatsApp hands the group to another member when the creator leaves.
            group.participants[next(iter(group.participants))] = ROLE_SUPERADMIN
        network.changed()


def request_join(network: Network, number: str, group_id: str) -> None:
    """`number` asks to join a group that approves new members: the request waits (`answer_requests`)
    and its admins get a `membership_approval_request` gp2 message."""
    with network.lock:
        network.phone(number)
        group = network.state.groups.get(group_id)
        if group is None:
            raise NotFound(f"group {group_id} not found", code="group_not_found")
        if number in group.participants:
            raise Conflict("already a member of this group", code="already_member")
        _request(network, group, number, "invite_link", None)


def _request(network: Network, group: Group, number: str, method: str, added_by: str | None) -> None:
    group.requests[number] = {"t": int(time.time()), "method": method, "addedBy": added_by}
    admins = [n for n in group.participants if is_admin(group, n)]
    subtype = "membership_approval_request"
    system.group_notice(network, group.id, admins, number, subtype, recipients=[ids.user_jid(number)])
    network.changed()


def answer_requests(
    network: Network, actor: str, group_id: str, numbers: list[str], *, approve: bool
) -> dict[str, int]:
    """An admin approves (they join, as by invite) or rejects pending requests; per-number 200 or 404."""
    with network.lock:
        group = group_for(network, group_id, actor, admin=True)
        results: dict[str, int] = {}
        for number in numbers:
            if group.requests.pop(number, None) is None:
                results[ids.user_jid(number)] = 404
                continue
            results[ids.user_jid(number)] = 200
            if approve and number not in group.participants:
                group.participants[number] = ROLE_MEMBER
                network.chat_state(number, group.id).t = int(time.time())
                _announce(network, group, actor, "add", [number])
        network.changed()
        return results
