"""`/api/sessions`: create, list, read, configure and command WhatsApp sessions."""

from __future__ import annotations

import os
import resource
from pathlib import Path
from typing import Any

import segno
from flask import Response
from flask.views import MethodView

from functions.api.audit import audit
from functions.api.auth import current_principal, requires
from functions.api.json_provider import json_response
from functions.api.openapi import Blueprint
from functions.api.render import session_to_wire, sessions_body
from functions.api.wiring import services
from functions.core.enums import Role
from functions.core.errors import Forbidden
from functions.schemas.sessions import (
    CreateSessionSchema,
    ListSessionsQuerySchema,
    PairingCodeRequestSchema,
    PairingCodeSchema,
    QrQuerySchema,
    QrSchema,
    SessionConfigPatchSchema,
    SessionConfigSchema,
    SessionSchema,
    SessionStatsSchema,
)

blp = Blueprint("sessions", __name__, url_prefix="/api/sessions", description="WhatsApp sessions")


def _resident_mb() -> int:
    """This process's resident memory in MB (current, from /proc; peak where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _scope() -> list[str] | None:
    """The session ids the caller may see, or None for all."""
    return current_principal().key.allowed_sessions or None


@blp.route("")
class Sessions(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(ListSessionsQuerySchema(), location="query")
    @blp.response(200, SessionSchema(many=True))
    @blp.errors(400)
    def get(self, query: dict[str, Any]) -> Response:
        """List sessions (only those in the key's scope)."""
        views = services().sessions.page(
            limit=query["limit"], offset=query["offset"], name=query.get("name"), only=_scope()
        )
        # The hottest read: returning a Response skips flask-smorest's marshmallow dump (most of this
        # route's CPU); `session_to_wire` already emits exactly SessionSchema's fields, and the schema
        # still documents the body (the schemathesis run validates responses against it).
        return json_response(sessions_body(views))

    @requires(Role.OPERATOR, unscoped=True)
    @blp.arguments(CreateSessionSchema())
    @blp.response(201, SessionSchema)
    @blp.errors(409, body=True)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a session (status `created`). Setting `proxyUrl` needs an admin key."""
        if body.get("proxyUrl") and current_principal().role < Role.ADMIN:
            raise Forbidden("Setting proxyUrl requires an admin key", details={"requiredRole": "admin"})
        view = services().sessions.create(body["name"], body.get("config"), body.get("proxyUrl"))
        audit("session_created", session=view.session)
        return session_to_wire(view)


@blp.route("/stats/overview")
class SessionStats(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, SessionStatsSchema)
    @blp.errors()
    def get(self) -> dict[str, Any]:
        """Counts of sessions by status (within the key's scope) and this API process's memory."""
        overview = services().sessions.overview(_scope())
        rss_mb = _resident_mb()
        overview["memoryUsage"] = {"heapUsed": rss_mb, "heapTotal": rss_mb, "rss": rss_mb}
        return overview


@blp.route("/<session_id>")
class SessionItem(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, SessionSchema)
    @blp.errors(404)
    def get(self, session_id: str) -> dict[str, Any]:
        """Get one session."""
        return session_to_wire(services().sessions.get(session_id))

    @requires(Role.OPERATOR)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, session_id: str) -> None:
        """Delete the session, its webhooks, queued commands and stored credentials."""
        session = services().sessions.delete(session_id)
        audit("session_deleted", session=session)


@blp.route("/<session_id>/config")
class SessionConfig(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, SessionConfigSchema)
    @blp.errors(404)
    def get(self, session_id: str) -> dict[str, Any]:
        """The session's effective tunables."""
        return services().sessions.get_config(session_id).to_wire()

    @requires(Role.OPERATOR)
    @blp.arguments(SessionConfigPatchSchema())
    @blp.response(200, SessionConfigSchema)
    @blp.errors(404, body=True)
    def patch(self, patch: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Merge-patch the tunables; `null` resets a key. Applies on the next start."""
        config = services().sessions.patch_config(session_id, patch).to_wire()
        audit("session_config_updated", session_id=session_id, fields=sorted(patch))
        return config


# Audit actions of the session commands (OpenWA's AuditAction names; restart is ours).
_AUDITED_AS = {
    "start": "session_started",
    "stop": "session_stopped",
    "restart": "session_restarted",
    "logout": "session_logged_out",
    "force_kill": "session_force_killed",
}


def _command(name: str, summary: str, *statuses: int) -> None:
    """Register `POST /<session_id>/<name>` calling the service method of the same name."""
    method = name.replace("-", "_")
    action = _AUDITED_AS[method]

    class Command(MethodView):
        @requires(Role.OPERATOR)
        @blp.response(200, SessionSchema)
        @blp.errors(404, *statuses)
        def post(self, session_id: str) -> dict[str, Any]:
            view = getattr(services().sessions, method)(session_id)
            audit(action, session=view.session)
            return session_to_wire(view)

    Command.post.__doc__ = summary
    Command.__name__ = f"Session{method.title().replace('_', '')}"
    blp.route(f"/<session_id>/{name}", endpoint=f"session_{method}")(Command)


_command("start", "Start the session (a runner claims it; `initializing`, then `qr_ready` or `ready`).")
_command("stop", "Stop the session, keeping its credentials.")
_command("restart", "Restart the session's engine.")
_command("logout", "Unlink the device from WhatsApp and wipe its credentials.", 400, 502, 504)
_command("force-kill", "Kill a wedged session process.", 400)


@blp.route("/<session_id>/qr")
class SessionQr(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(QrQuerySchema(), location="query")
    @blp.response(200, QrSchema)
    @blp.errors(400, 404)
    def get(self, query: dict[str, Any], session_id: str) -> dict[str, Any]:
        """The current QR code: a PNG data URL, or the raw string with `format=raw`."""
        session = services().sessions.qr(session_id)
        assert session.qr is not None  # guaranteed by the service
        if query["format"] == "raw":
            return {"raw": session.qr, "status": session.status.value}
        png = segno.make(session.qr, error="l").png_data_uri(scale=6, border=2)
        return {"qrCode": png, "status": session.status.value}


@blp.route("/<session_id>/pairing-code")
class SessionPairingCode(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(PairingCodeRequestSchema())
    @blp.response(201, PairingCodeSchema)
    @blp.errors(404, 502, 504, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Link by phone number: an 8-character code to type on the phone."""
        phone = body["phoneNumber"].lstrip("+")
        return services().sessions.request_pairing_code(session_id, phone)
