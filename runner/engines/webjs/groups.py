"""The webjs engine's group capabilities (`Capability.GROUP*`), over wa-js's `WPP.group.*`.

Each is a guarded `page.evaluate` (`capabilities.WebJsCapabilities._guarded`); the longer page functions
are `calls/group_*.js`. wa-js's codes become ours: `chat_not_found`/`not_a_group` → GROUP_NOT_FOUND (404),
`invalid_invite_code` → INVITE_CODE_INVALID (404), a refusal (not an admin, a locked group, a number that is
not on WhatsApp at creation...) → ENGINE_REFUSED (403). What WhatsApp reports by LID is reported by phone
number (`lids.py`). Shapes are OpenWA's (`openwa` SDK `GroupInfo`, `GroupSummary`, `GroupSettings`...).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from functions.core.chats import Capability, ChatNotFound
from functions.core.groups import MEMBER_ADD_MODES, GroupNotFound
from runner.engines.base import NotSupportedByEngine

Guarded = Callable[[str, Any], Awaitable[Any]]
ByPhone = Callable[[Any], Awaitable[Any]]

_LIST = """async () => (await WPP.group.getAllGroups()).filter(Boolean).map((chat) => {
  const meta = chat.groupMetadata || {};
  const parent = meta.parentGroup ? String(meta.parentGroup._serialized || meta.parentGroup) : null;
  const name = chat.name || meta.subject || '';
  return { id: String(chat.id._serialized || chat.id), name, linkedParentJID: parent };
})"""
_CREATE = """async ([name, ids]) => {
  const result = await WPP.group.create(name, ids, undefined);
  const added = Object.values(result.participants).filter((p) => p.code === 200 || p.code === '200').length;
  return { id: String(result.gid._serialized || result.gid), added };
}"""
_SUBJECT = "async ([group, subject]) => !!(await WPP.group.setSubject(group, subject))"
_DESCRIPTION = "async ([group, text]) => !!(await WPP.group.setDescription(group, text))"
_PROPERTY = "async ([group, name, value]) => !!(await WPP.group.setProperty(group, name, value))"
_PICTURE = "async (group) => (await WPP.contact.getProfilePictureUrl(group, true)) || null"
_SET_ICON = "async ([group, data]) => (await WPP.group.setIcon(group, data)).status === 200"
_REMOVE_ICON = "async (group) => !!(await WPP.group.removeIcon(group))"
_INVITE = "async (group) => await WPP.group.getInviteCode(group)"
_REVOKE = "async (group) => await WPP.group.revokeInviteCode(group)"
_JOIN_INFO = "async (code) => await WPP.group.getGroupInfoFromInviteCode(code)"
_JOIN = "async (code) => await WPP.group.join(code)"
_LEAVE = "async (group) => { await WPP.group.leave(group); return true; }"
# OpenWA setting -> (wa-js GroupProperty, how the value is given).
_PROPERTIES = {"announce": "announcement", "locked": "restrict", "ephemeralSeconds": "ephemeral"}


class WebJsGroups:
    """The group capabilities by name; `guarded` runs a page function, `by_phone` swaps LIDs for phones."""

    def __init__(self, guarded: Guarded, by_phone: ByPhone, page_function: Callable[[str], str]) -> None:
        self._guarded, self._by_phone = guarded, by_phone
        self._info_script = page_function("group_info")
        self._participants_script = page_function("group_participants")
        self._requests_script = page_function("group_requests")

    def table(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        return {
            Capability.GROUPS: lambda: self._call(_LIST, None),
            Capability.GROUP: self.info,
            Capability.GROUP_CREATE: self.create,
            Capability.GROUP_PARTICIPANTS: self.participants,
            Capability.GROUP_SUBJECT: lambda group, text: self._call(_SUBJECT, [group, text]),
            Capability.GROUP_DESCRIPTION: lambda group, text: self._call(_DESCRIPTION, [group, text]),
            Capability.GROUP_SETTINGS: self.settings,
            Capability.GROUP_PICTURE: lambda group: self._call(_PICTURE, group),
            Capability.GROUP_SET_PICTURE: self.set_picture,
            Capability.GROUP_INVITE: lambda group: self._call(_INVITE, group),
            Capability.GROUP_REVOKE_INVITE: lambda group: self._call(_REVOKE, group),
            Capability.GROUP_JOIN_INFO: self.join_info,
            Capability.GROUP_JOIN: self.join,
            Capability.GROUP_LEAVE: lambda group: self._call(_LEAVE, group),
            Capability.GROUP_REQUESTS: lambda group: self._call(self._requests_script, [group, None, None]),
            Capability.GROUP_ANSWER_REQUESTS: self.answer_requests,
        }

    async def _call(self, script: str, arg: Any) -> Any:
        """The guarded call, its LIDs as phones; a chat that is not a group of ours is GROUP_NOT_FOUND."""
        try:
            value = await self._guarded(script, arg)
        except ChatNotFound as exc:
            raise GroupNotFound(details={"groupId": arg if isinstance(arg, str) else None}) from exc
        return await self._by_phone(value)

    async def info(self, group_id: str) -> dict[str, Any]:
        """OpenWA's GroupInfo, plus the settings (`settings`) GroupSettings is read from."""
        raw: dict[str, Any] = await self._call(self._info_script, group_id)
        participants = [
            {**p, "number": p["id"].split("@")[0] if p["id"].endswith("@c.us") else None}
            for p in raw["participants"]
        ]
        mode = {wa: ours for ours, wa in MEMBER_ADD_MODES.items()}.get(str(raw.get("memberAddMode")))
        return {
            "id": raw["id"],
            "name": raw["name"],
            "description": raw.get("description"),
            "owner": raw.get("owner"),
            "createdAt": raw.get("createdAt"),
            "isReadOnly": bool(raw.get("isReadOnly")),
            "isAnnounce": bool(raw.get("announce")),
            "linkedParentJID": raw.get("parent"),
            "participants": participants,
            "settings": {
                "announce": bool(raw.get("announce")),
                "locked": bool(raw.get("restrict")),
                "ephemeralSeconds": int(raw.get("ephemeralSeconds") or 0),
                **({"memberAddMode": mode} if mode else {}),
            },
        }

    async def create(self, name: str, participants: list[str]) -> dict[str, Any]:
        created = await self._call(_CREATE, [name, participants])
        return {
            "id": created["id"],
            "name": name,
            "participantsCount": int(created["added"]) + 1,  # and us
            "isAdmin": True,
            "linkedParentJID": None,
        }

    async def participants(self, group_id: str, operation: str, ids: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._call(self._participants_script, [group_id, operation, ids])
        return rows

    async def settings(self, group_id: str, changes: Mapping[str, Any]) -> None:
        """Apply OpenWA's settings; wa-js (pinned 4.6.0) declares no setter for the member-add mode, so a
        change that includes one is refused whole (501) before anything changes."""
        if "memberAddMode" in changes:
            raise NotSupportedByEngine("memberAddMode cannot be changed through the webjs engine")
        for name, value in changes.items():
            await self._call(_PROPERTY, [group_id, _PROPERTIES[name], value])

    async def set_picture(self, group_id: str, data_url: str | None) -> bool:
        if data_url is None:
            return bool(await self._call(_REMOVE_ICON, group_id))
        return bool(await self._call(_SET_ICON, [group_id, data_url]))

    async def join_info(self, code: str) -> dict[str, Any]:
        """OpenWA's GroupJoinInfo: what the invite discloses (no participant list, only a count)."""
        raw = await self._by_phone(await self._guarded(_JOIN_INFO, code))
        info = {
            "id": raw["id"],
            "name": raw.get("subject") or "",
            "description": raw.get("desc") or None,
            "owner": raw.get("owner"),
            "createdAt": raw.get("creation"),
            "participantCount": raw.get("size"),
        }
        return {key: value for key, value in info.items() if value is not None}

    async def join(self, code: str) -> dict[str, Any]:
        # WhatsApp answers an unknown or revoked code to `join` with a bare server status, not a wa-js code;
        # `getGroupInfoFromInviteCode` says so as `invalid_invite_code`, and changes nothing.
        await self.join_info(code)
        joined = await self._guarded(_JOIN, code)
        return {"groupId": str(joined["id"]), "pendingApproval": bool(joined.get("pendingApproval"))}

    async def answer_requests(
        self, group_id: str, ids: list[str] | None, approve: bool
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._call(self._requests_script, [group_id, ids, approve])
        return rows
