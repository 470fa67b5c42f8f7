"""The page's side of the sandbox: the WhatsApp Web double at `/` and its channel at `/_wa/*`.

Down: Server-Sent Events (`GET /_wa/events`). A page that is not linked gets `qr` events (a new QR every
`qr_interval` seconds) until a phone links it, then one `linked` event with its credentials. A linked page
(credentials from IndexedDB) gets `hello` and then the network's events, numbered, so a page that reconnects
with `since=<last number>` misses nothing. Comment lines keep idle streams alive through proxies.
Up: JSON POSTs (`/_wa/rpc/<method>` with `Authorization: Bearer <device token>`).
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

import segno
from flask import Blueprint, Response, current_app, request, send_from_directory

from runner.sandbox import (  # noqa: F401 - they register handlers
    lids,
    rpc,
    rpc_account,
    rpc_channels,
    rpc_groups,
    rpc_labels,
    rpc_social,
    rpc_status,
)
from runner.sandbox.errors import BadRequest, NotFound, SandboxError, Unauthorized, Unavailable
from runner.sandbox.hub import Item
from runner.sandbox.model import Device
from runner.sandbox.network import Network, PendingPage

KEEPALIVE_SECONDS = 10.0
# WhatsApp Web's policy in the parts that matter to an injector: scripts only from the page's own origin (no
# inline script, no eval), so `page.add_script_tag` (an inline <script>) is refused here as it is there
# (wppconnect #2109). Injection must go around the page's CSP, as `context.add_init_script` does.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)
page = Blueprint("page", __name__)


@page.after_request
def _content_security_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def network() -> Network:
    found: Network = current_app.extensions["sandbox.network"]
    return found


def _sse(event: dict[str, Any], seq: int | None = None) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}data: {json.dumps(event, separators=(',', ':'))}\n\n"


@page.get("/")
def index() -> Response:
    return send_from_directory(current_app.static_folder or "", "index.html", max_age=0)


@page.get("/_wa/events")
def events() -> Response:
    net = network()
    token = request.args.get("token")
    if token:
        device = _device(net, token)
        since = request.args.get("since", type=int)
        return _stream(_linked_events(net, device, since))
    page_id = request.args.get("page", "")
    if not 8 <= len(page_id) <= 64:
        raise BadRequest("page must be an id of 8-64 characters")
    default_interval = float(current_app.config["SANDBOX_QR_INTERVAL"])
    return _stream(_pending_events(net, net.open_pending(page_id), default_interval))


def _stream(body: Iterator[str]) -> Response:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(body, mimetype="text/event-stream", headers=headers)


def _pending_events(net: Network, pending: PendingPage, default_interval: float) -> Iterator[str]:
    """QR after QR until linked; after `qrRotations` of them the page goes idle (its last QR stops working)
    until it asks for more (`/_wa/qr-refresh`). The page's pending registration ends with the stream."""
    try:
        rotations = 0
        while pending.linked is None:
            if rotations >= int(net.settings["qrRotations"]):
                net.expire_qr(pending)
                yield _sse({"type": "idle"})
                yield from _wait(pending, lambda: pending.linked is not None or pending.refresh.is_set())
                pending.refresh.clear()
                rotations = 0
                continue
            qr = net.rotate_qr(pending)
            rotations += 1
            interval = float(net.settings["qrInterval"] or default_interval)  # settings apply at once
            yield _sse({"type": "qr", "ref": pending.ref, "qr": qr, "svg": _qr_svg(qr), "interval": interval})
            yield from _wait(pending, _linked_or_after(pending, time.monotonic() + interval))
        yield _sse({"type": "linked", **pending.linked})
    finally:
        if pending.linked is None:
            net.close_pending(pending.id)


def _linked_or_after(pending: PendingPage, deadline: float) -> Callable[[], bool]:
    return lambda: pending.linked is not None or time.monotonic() >= deadline


def _wait(pending: PendingPage, done: Callable[[], bool]) -> Iterator[str]:
    """Until `done()`: woken at once by a link, checks the rest every 0.1 s, keepalives in between."""
    quiet_since = time.monotonic()
    while not done():
        pending.wake.wait(0.1)
        if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
            quiet_since = time.monotonic()
            yield ": keepalive\n\n"


def _qr_svg(data: str) -> str:
    """The QR as an SVG data URI, rendered from the raw string server-side (no script or CDN needed)."""
    return str(segno.make_qr(data, error="l").svg_data_uri(scale=5, border=4))


def _linked_events(net: Network, device: Device, since: int | None) -> Iterator[str]:
    stream = net.hub.subscribe(device.id, since)
    try:
        yield _sse({"type": "hello", "me": net.me(device), "seq": net.hub.current_seq(device.id)})
        while True:
            try:
                item: Item = stream.get(timeout=KEEPALIVE_SECONDS)
            except queue.Empty:
                yield ": keepalive\n\n"
                continue
            if item is None:
                return  # closed by a fault or a logout: the page sees the connection drop
            seq, event = item
            with net.lock:
                event = lids.event(net, event)
            yield _sse(event, seq)
    finally:
        net.hub.unsubscribe(device.id, stream)


def _device(net: Network, token: str) -> Device:
    """The linked device for `token`: 401 when unlinked, 503 while a disconnect fault holds it offline."""
    device = net.device(token)
    if device is None:
        raise Unauthorized("this device is not linked (logged out)", code="logged_out")
    if net.offline_until.get(device.id, 0) > time.monotonic():
        raise Unavailable("the network is unreachable (disconnect fault)")
    return device


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip()


@page.post("/_wa/session")
def session() -> Response:
    """The page checks its stored credentials before (re)connecting; what it shows of its client (user
    agent, `navigator.webdriver`) is kept on the device, as WhatsApp's servers see it."""
    net = network()
    device = _device(net, _bearer())
    shown = request.get_json(silent=True) or {}
    with net.lock:
        device.client = {
            "userAgent": request.headers.get("User-Agent", ""),
            "webdriver": shown.get("webdriver") is True,
        }
    body = {"me": net.me(device), "deviceId": device.id, "seq": net.hub.current_seq(device.id)}
    return Response(json.dumps(body), mimetype="application/json")


@page.post("/_wa/gtag")
def analytics_beacon() -> Response:
    """Where the WPP double sends the analytics beacons wa-js sends to Google (the sandbox plays Google)."""
    body = request.get_json(silent=True) or {}
    net = network()
    with net.lock:
        net.analytics.append({"event": str(body.get("event", "")), "t": int(time.time())})
        del net.analytics[:-1000]
    return Response(status=204)


@page.post("/_wa/pairing-code")
def pairing_code() -> Response:
    body = request.get_json(silent=True) or {}
    phone = str(body.get("phone", "")).lstrip("+").replace(" ", "")
    if not phone.isdigit():
        raise BadRequest("phone must be a phone number", code="invalid_phone")
    code, lifetime = network().pairing_code(str(body.get("page", "")), phone)
    return Response(json.dumps({"code": code, "expiresIn": lifetime}), mimetype="application/json")


@page.post("/_wa/qr-refresh")
def qr_refresh() -> Response:
    """An idle page asks for QR codes again."""
    body = request.get_json(silent=True) or {}
    network().refresh_qr(str(body.get("page", "")))
    return Response(status=204)


@page.post("/_wa/rpc/<method>")
def call(method: str) -> Response:
    net = network()
    device = _device(net, _bearer())
    args = request.get_json(silent=True)
    if not isinstance(args, dict):
        raise BadRequest("the body must be a JSON object")
    result = rpc.call(net, device, method, lids.from_page(net, args))
    with net.lock:
        result = lids.rpc_result(net, method, result)
    return Response(json.dumps({"result": result}), mimetype="application/json")


@page.get("/_wa/media/<message_id>")
def media(message_id: str) -> Response:
    net = network()
    device = _device(net, _bearer() or request.args.get("token", ""))
    with net.lock:
        message = net.message(message_id)
        if message.media is None or (message.sender != device.number and device.number not in message.acks):
            raise NotFound("no media for this message", code="media_not_found")
        meta = message.media
    data = net.store.get_media(meta.sha256)
    return Response(data, mimetype=meta.mimetype, headers={"Cache-Control": "private, max-age=3600"})


@page.get("/_wa/picture/<owner>")
def picture(owner: str) -> Response:
    """A phone's (`<number>`) or group's (`<id>@g.us`) picture, as WhatsApp's picture CDN serves it: to
    whoever has the URL (`WPP.contact.getProfilePictureUrl` hands it out)."""
    net = network()
    with net.lock:
        holder = net.state.groups.get(owner) if owner.endswith("@g.us") else net.state.phones.get(owner)
        digest = holder.picture if holder is not None else None
    if digest is None:
        raise NotFound("no picture", code="picture_not_found")
    return Response(net.store.get_media(digest), mimetype="image/jpeg", headers={"Cache-Control": "no-cache"})


def register_errors(app: Any) -> None:
    """Errors as JSON `{error, message}` with the error's status (the page and the control API share it)."""

    @app.errorhandler(SandboxError)
    def _sandbox_error(exc: SandboxError) -> Response:
        body = {"error": exc.code, "message": exc.message}
        return Response(json.dumps(body), status=exc.status, mimetype="application/json")
