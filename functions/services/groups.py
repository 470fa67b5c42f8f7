"""A session's groups: list, info, create, participants, subject, description, settings, picture, invite
links, joining, leaving and membership requests.

Asked of the session's engine at once (see `functions.services.session_engine`); answers are OpenWA's shapes
(`openwa` SDK `groups` resource). Creating a group with people and adding people to one are reach-outs:
with send pacing on, each person the session never talked to costs one cold reach-out, checked before
(429 SEND_PACING_LIMITED, nothing changes) and counted for those WhatsApp actually added. A picture comes
as a URL or base64 through the same media guard as sends (size cap, SSRF guard, type sniffing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.config import Settings
from functions.core import groups, pacing
from functions.core.chats import Capability
from functions.core.clock import utcnow
from functions.core.models import Session
from functions.services import media as media_files
from functions.services.pictures import image_data_url
from functions.services.session_engine import SessionEngine
from functions.state.pacing import PacingState


class GroupService:
    def __init__(self, engine: SessionEngine, settings: Settings, pacing_state: PacingState) -> None:
        self._engine, self._pacing = engine, pacing_state
        self._policy = pacing.PacingPolicy.from_settings(settings)
        self._media_limits = media_files.MediaLimits.from_settings(settings)

    def _call(self, session_id: str, capability: Capability, *args: Any) -> Any:
        return self._engine.call(session_id, capability, *args)

    def page(self, session_id: str, *, limit: int, offset: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call(session_id, Capability.GROUPS)
        return found[offset : offset + limit]

    def get(self, session_id: str, group_id: str) -> dict[str, Any]:
        info: dict[str, Any] = self._call(session_id, Capability.GROUP, group_id)
        info.pop("settings", None)
        return info

    def create(self, session_id: str, name: str, participants: list[str]) -> dict[str, Any]:
        """GroupSummary of the new group (WhatsApp refuses the whole creation for a number it does not
        know: 403 ENGINE_REFUSED, reason `participant_not_exists`)."""
        cold = self._admit_reachouts(session_id, participants)
        summary: dict[str, Any] = self._call(session_id, Capability.GROUP_CREATE, name, participants)
        self._count_reachouts(session_id, cold)
        return summary

    def change_participants(
        self, session_id: str, group_id: str, operation: str, participants: list[str]
    ) -> dict[str, Any]:
        """ParticipantsResult: one result per participant; a refused one does not fail the others."""
        cold = self._admit_reachouts(session_id, participants) if operation == "add" else []
        rows = self._call(session_id, Capability.GROUP_PARTICIPANTS, group_id, operation, participants)
        if cold:
            added = {str(row.get("id")) for row in rows if int(row.get("status") or 0) == 200}
            self._count_reachouts(session_id, [chat for chat in cold if chat in added])
        return groups.participants_result(rows)

    def set_subject(self, session_id: str, group_id: str, subject: str) -> dict[str, Any]:
        self._call(session_id, Capability.GROUP_SUBJECT, group_id, subject)
        return {"success": True, "message": "Group subject updated"}

    def set_description(self, session_id: str, group_id: str, description: str) -> dict[str, Any]:
        self._call(session_id, Capability.GROUP_DESCRIPTION, group_id, description)
        return {"success": True, "message": "Group description updated"}

    def settings(self, session_id: str, group_id: str) -> dict[str, Any]:
        info = self._call(session_id, Capability.GROUP, group_id)
        return dict(info["settings"])

    def update_settings(self, session_id: str, group_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        self._call(session_id, Capability.GROUP_SETTINGS, group_id, dict(changes))
        return {"success": True, "message": "Group settings updated"}

    def picture(self, session_id: str, group_id: str) -> dict[str, Any]:
        return {"url": self._call(session_id, Capability.GROUP_PICTURE, group_id)}

    def set_picture(self, session_id: str, group_id: str, source: Mapping[str, Any]) -> dict[str, Any]:
        """Set the picture from `url` or `base64` (an image, else 400 INVALID_MEDIA)."""
        self._engine.ready(session_id)  # before downloading anything for a session that cannot use it
        data_url = image_data_url(source, self._media_limits, "a group picture")
        done = bool(self._call(session_id, Capability.GROUP_SET_PICTURE, group_id, data_url))
        return {"success": done, "message": "Group picture updated" if done else "WhatsApp did not confirm"}

    def delete_picture(self, session_id: str, group_id: str) -> dict[str, Any]:
        done = bool(self._call(session_id, Capability.GROUP_SET_PICTURE, group_id, None))
        return {"success": done, "message": "Group picture removed" if done else "WhatsApp did not confirm"}

    def invite_code(self, session_id: str, group_id: str, *, revoke: bool = False) -> dict[str, Any]:
        """InviteCodeResponse (`revoke`: a new code; the old one stops working)."""
        capability = Capability.GROUP_REVOKE_INVITE if revoke else Capability.GROUP_INVITE
        code = str(self._call(session_id, capability, group_id))
        answer = {"inviteCode": code, "inviteLink": f"{groups.INVITE_LINK_PREFIX}{code}"}
        return {**answer, "message": "Invite code revoked"} if revoke else answer

    def join_info(self, session_id: str, code: str) -> dict[str, Any]:
        code = groups.invite_code(code, "code")
        info: dict[str, Any] = self._call(session_id, Capability.GROUP_JOIN_INFO, code)
        return info

    def join(self, session_id: str, code: str) -> dict[str, Any]:
        joined = self._call(session_id, Capability.GROUP_JOIN, groups.invite_code(code))
        return {"success": True, "groupId": joined["groupId"], "pendingApproval": joined["pendingApproval"]}

    def leave(self, session_id: str, group_id: str) -> dict[str, Any]:
        self._call(session_id, Capability.GROUP_LEAVE, group_id)
        return {"success": True, "message": "Left the group"}

    def membership_requests(self, session_id: str, group_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call(session_id, Capability.GROUP_REQUESTS, group_id)
        return [{key: value for key, value in row.items() if value is not None} for row in rows]

    def answer_requests(
        self, session_id: str, group_id: str, participants: list[str] | None, *, approve: bool
    ) -> dict[str, Any]:
        """ParticipantsResult; `participants` None answers every pending request."""
        rows = self._call(session_id, Capability.GROUP_ANSWER_REQUESTS, group_id, participants, approve)
        return groups.participants_result(rows)

    def _admit_reachouts(self, session_id: str, participants: list[str]) -> list[str]:
        """The participants that are cold reach-outs; SendPacingLimited (429) when they are too many."""
        if not self._policy.enabled:
            return []
        session: Session = self._engine.ready(session_id)
        reachable = [chat for chat in participants if pacing.is_reachable_contact(chat)]
        cold = self._pacing.unknown_chats(session.id, reachable)
        counts = self._pacing.read(session.id, phone=session.phone, chat_id=None)
        refusal = pacing.check_reachouts(self._policy, counts, utcnow(), len(cold))
        if refusal is not None:
            raise refusal.error()
        return cold

    def _count_reachouts(self, session_id: str, cold: list[str]) -> None:
        if cold:
            self._pacing.record_reachouts(session_id, cold, day=pacing.utc_day(utcnow()))
