"""Live events as Server-Sent Events: one session's (`/api/sessions/<id>/events`) or every session the key
may see (`/api/events`). Each event is one SSE message, `id:` its stream id, so a client that reconnects
with `Last-Event-ID` (header, or `lastEventId` query) resumes right after it, from the capped stream;
without one it gets new events only. `events=a,b` keeps only those names. A connection ends after
SSE_MAX_SECONDS; EventSource clients reconnect and resume by themselves. Open streams are capped across every
API process (SSE_MAX_STREAMS) and per API key (SSE_MAX_STREAMS_PER_KEY): past either, 429 TOO_MANY_STREAMS.
A stream costs a greenlet and a Redis connection, not a request thread (the API runs gevent workers)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import orjson
from flask import Response, request, stream_with_context
from flask.views import MethodView

from functions.api.auth import current_principal, requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.core.errors import TooManyRequests, ValidationFailed
from functions.schemas.webhooks import EventsQuerySchema
from functions.state.events import EventLog, StoredEvent
from functions.state.streams import RENEW_EVERY_SECONDS, OpenStreams
from functions.webhooks.dispatch import event_log

blp = Blueprint("events", __name__, url_prefix="/api", description="Live events (Server-Sent Events)")

_EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
# XREAD blocks at most this long: below the Redis client's socket timeout (5 s).
_MAX_BLOCK_SECONDS = 4.0
_CAP_SETTING = {OpenStreams.GLOBAL: "SSE_MAX_STREAMS", OpenStreams.PER_KEY: "SSE_MAX_STREAMS_PER_KEY"}
_SSE_DOC = {"description": "A `text/event-stream` of events", "content": {"text/event-stream": {}}}


def frame(event: StoredEvent) -> bytes:
    """One SSE message: `id`, `event` and a JSON `data` line (the event's data is embedded verbatim)."""
    head = orjson.dumps(
        {
            "event": event.event,
            "timestamp": event.timestamp,
            "sessionId": event.session_id,
            "eventId": event.id,
        }
    )
    data = head[:-1] + b',"data":' + event.data + b"}"
    lines = [b"id: " + event.stream_id.encode(), b"event: " + event.event.encode(), b"data: " + data]
    return b"\n".join(lines) + b"\n\n"


def _resume_from(query: dict[str, Any], log: EventLog, stream_key: str) -> str:
    given = request.headers.get("Last-Event-ID") or query.get("lastEventId")
    if given is None:
        return log.last_id(stream_key)
    if not _EVENT_ID.match(given.strip()):
        raise ValidationFailed(
            "Last-Event-ID must be a stream id like 1700000000000-0", details={"lastEventId": given}
        )
    return given.strip()


def _stream(
    log: EventLog,
    stream_key: str,
    after: str,
    names: set[str] | None,
    only: list[str] | None,
    keepalive: float,
    max_seconds: float,
) -> Iterator[bytes]:
    positions = {stream_key: after}
    yield b"retry: 3000\n\n"
    last_write = started = time.monotonic()
    while (left := max_seconds - (time.monotonic() - started)) > 0:
        block_ms = max(1, int(min(keepalive, _MAX_BLOCK_SECONDS, left) * 1000))
        batch = log.read(positions, block_ms=block_ms)
        out = []
        for key, event in batch:
            positions[key] = event.stream_id
            if (names is None or event.event in names) and (only is None or event.session_id in only):
                out.append(frame(event))
        if out:
            yield b"".join(out)
            last_write = time.monotonic()
        elif time.monotonic() - last_write >= keepalive:
            yield b": keepalive\n\n"
            last_write = time.monotonic()


class TooManyStreams(TooManyRequests):
    code, default_message = "TOO_MANY_STREAMS", "Too many event streams are open"


def _leased(body: Iterator[bytes], slots: OpenStreams, key_id: str, token: str) -> Iterator[bytes]:
    """`body`, renewing the stream's slot while it runs and giving it back however it ends (the client
    gone, the server stopping, the time limit)."""
    renewed = time.monotonic()
    try:
        for chunk in body:
            yield chunk
            if time.monotonic() - renewed >= RENEW_EVERY_SECONDS:
                slots.renew(key_id, token)
                renewed = time.monotonic()
    finally:
        slots.release(key_id, token)


def _respond(query: dict[str, Any], stream_key: str, only: list[str] | None) -> Response:
    wired = services()
    log = event_log(wired.redis, wired.settings)
    after = _resume_from(query, log, stream_key)
    names = {name.strip() for name in query["events"].split(",")} if query.get("events") else None
    if names and "*" in names:
        names = None
    settings = wired.settings
    key_id, token = current_principal().key.id, secrets.token_hex(8)
    full = wired.open_streams.take(key_id, token)
    if full is not None:
        caps = wired.open_streams.caps
        limit = caps.total if full == OpenStreams.GLOBAL else caps.per_key
        raise TooManyStreams(
            retry_after_seconds=5, details={"limit": limit, "scope": full, "setting": _CAP_SETTING[full]}
        )
    body = _stream(
        log, stream_key, after, names, only, settings.sse_keepalive_seconds, settings.sse_max_seconds
    )
    body = _leased(body, wired.open_streams, key_id, token)
    return Response(
        stream_with_context(body),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@blp.route("/sessions/<session_id>/events")
class SessionEvents(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(EventsQuerySchema(), location="query")
    @blp.doc(responses={"200": _SSE_DOC})
    @blp.errors(400, 404, 429)
    def get(self, query: dict[str, Any], session_id: str) -> Response:
        """Stream the session's events (Server-Sent Events), resuming after `Last-Event-ID`."""
        services().sessions.get(session_id)  # 404 for an unknown session
        return _respond(query, services().keys.session_events(session_id), None)


@blp.route("/events")
class AllEvents(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(EventsQuerySchema(), location="query")
    @blp.doc(responses={"200": _SSE_DOC})
    @blp.errors(400, 429)
    def get(self, query: dict[str, Any]) -> Response:
        """Stream the events of every session the key may see (Server-Sent Events)."""
        only = current_principal().key.allowed_sessions or None
        return _respond(query, services().keys.all_events, only)
