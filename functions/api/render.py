"""Domain records as OpenWA's wire shapes (camelCase, ISO-8601 timestamps, lowercase enums)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from functions.api.json_provider import json_body
from functions.core.clock import iso
from functions.core.models import ApiKey, Session
from functions.services.api_keys import display_prefix
from functions.services.sessions import SessionView


def session_to_wire(view: SessionView) -> dict[str, Any]:
    return {**_session_fields(view.session), "engineLoaded": view.engine_loaded}


@lru_cache(maxsize=64)
def sessions_body(views: tuple[SessionView, ...]) -> bytes:
    """The JSON body of a session list, memoised on its views: the service returns the same tuple for an
    unchanged page, so the hottest read serialises nothing (the views, and so the body, are immutable)."""
    return json_body([session_to_wire(view) for view in views])


@lru_cache(maxsize=4096)
def _session_fields(session: Session) -> dict[str, Any]:
    """The stored part of the wire shape; memoised per (immutable) Session. Callers copy, never mutate."""
    return {
        "id": session.id,
        "name": session.name,
        "status": session.status.value,
        "phone": session.phone,
        "pushName": session.push_name,
        "connectedAt": iso(session.connected_at),
        "lastActive": iso(session.last_active_at),
        "createdAt": iso(session.created_at),
        "updatedAt": iso(session.updated_at),
        "lastError": session.last_error,
        "restriction": session.restriction,
    }


def api_key_to_wire(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "keyPrefix": display_prefix(key.key_prefix),
        "role": key.role.label,
        "allowedIps": key.allowed_ips,
        "allowedSessions": key.allowed_sessions,
        "isActive": key.is_active,
        "expiresAt": iso(key.expires_at),
        "lastUsedAt": iso(key.last_used_at),
        "usageCount": key.usage_count,
        "createdAt": iso(key.created_at),
        "updatedAt": iso(key.updated_at),
    }


def download_name(filename: str | None) -> str | None:
    """A sender's file name made safe to offer for download, or None when nothing is left of it: without
    control, format or unassigned characters (CR/LF would break the header; a right-to-left override,
    U+202E, can make a name ending `gnp.html` display as ending `lmth.png`), with quotes, backslashes and
    slashes as `_`. The header itself (RFC 6266 `filename*=UTF-8''...` plus an ASCII fallback) is
    werkzeug's `send_file`."""
    if not filename:
        return None
    kept = "".join(
        "_" if char in '"\\/' else char for char in filename if not unicodedata.category(char).startswith("C")
    )
    return kept.strip() or None
