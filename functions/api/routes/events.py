"""Live events as Server-Sent Events: one session's (`/api/sessions/<id>/events`) or every session the key
may see (`/api/events`). Each event is one SSE message, `id:` its stream id, so a client that reconnects
with `Last-Event-ID` (header, or `lastEventId` query) resumes right after it, from the capped stream;
without one it gets new events only. `events=a,b` keeps only those names. A connection ends after
SSE_MAX_SECONDS; EventSource clients reconnect and resume by themselves. Open streams are capped across every
API process (SSE_MAX_STREAMS) and per API key (SSE_MAX_STREAMS_PER_KEY): past either, 429 TOO_MANY_STREAMS.
A stream costs a greenlet, not a request thread (the API runs gevent workers), and no Redis connection of its
own: one reader per process and stream feeds every client (`functions.api.event_hub`). A client that stops
reading and falls far behind is cut off, and resumes from Redis with Last-Event-ID."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, request, stream_with_context
from flask.views import MethodView

from functions.api.auth import current_principal, requires
from functions.api.event_hub import EventHub, Framed, stream_position
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.core.errors import TooManyRequests, ValidationFailed
from functions.schemas.webhooks import EventsQuerySchema
from functions.state.events import EventLog
from functions.state.streams import RENEW_EVERY_SECONDS, OpenStreams
from functions.webhooks.dispatch import event_log

blp = Blueprint("events", __name__, url_prefix="/api", description="Live events (Server-Sent Events)")

_EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_CAP_SETTING = {OpenStreams.GLOBAL: "SSE_MAX_STREAMS", OpenStreams.PER_KEY: "SSE_MAX_STREAMS_PER_KEY"}
_SSE_DOC = {"description": "A `text/event-stream` of events", "content": {"text/event-stream": {}}}


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
    hub: EventHub,
    stream_key: str,
    after: str,
    names: set[str] | None,
    only: list[str] | None,
    keepalive: float,
    max_seconds: float,
) -> Iterator[bytes]:
    """The SSE body: the history after `after`, then live events from the process's reader, keepalive
    comments when quiet, until `max_seconds`. Subscribed before the history is read (see `event_hub`)."""

    def wanted(item: Framed) -> bool:
        event = item.event
        return (names is None or event.event in names) and (only is None or event.session_id in only)

    subscription = hub.subscribe(stream_key)
    try:
        yield b"retry: 3000\n\n"
        started = time.monotonic()
        sent_up_to = stream_position(after)
        for page in _pages(hub.history(stream_key, after)):
            sent_up_to = stream_position(page[-1].event.stream_id)
            if out := [item.frame for item in page if wanted(item)]:
                yield b"".join(out)
        last_write = time.monotonic()
        everything = names is None and only is None
        while (left := max_seconds - (time.monotonic() - started)) > 0 and not (
            subscription.overflowed or subscription.closed
        ):
            out = []
            for batch in subscription.take(min(keepalive, left)):
                first, last = (stream_position(batch.items[i].event.stream_id) for i in (0, -1))
                if last <= sent_up_to:
                    continue  # already sent with the history
                if everything and first > sent_up_to:
                    out.append(batch.joined)  # the common case: bytes built once for every client
                else:
                    fresh = (
                        item for item in batch.items if stream_position(item.event.stream_id) > sent_up_to
                    )
                    out += [item.frame for item in fresh if wanted(item)]
                sent_up_to = last
            if out:
                yield b"".join(out)
                last_write = time.monotonic()
            elif time.monotonic() - last_write >= keepalive:
                yield b": keepalive\n\n"
                last_write = time.monotonic()
    finally:
        hub.unsubscribe(stream_key, subscription)


def _pages(items: Iterator[Framed], size: int = 200) -> Iterator[list[Framed]]:
    page: list[Framed] = []
    for item in items:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


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
        wired.event_hub,
        stream_key,
        after,
        names,
        only,
        settings.sse_keepalive_seconds,
        settings.sse_max_seconds,
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
