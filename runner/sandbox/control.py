"""The control API (`/_sandbox/*`): JSON for tests and people to play the phones' side.

Bodies must be JSON objects with only the listed fields; anything else is 400 with a message. Unknown
phones are 404, a phone number that exists already is 409.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from runner.sandbox import actions, compose, ids, system
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import ACK_FAILED
from runner.sandbox.network import FAULT_KINDS
from runner.sandbox.views import inbox_view, phone_view
from runner.sandbox.web import network

control = Blueprint("control", __name__, url_prefix="/_sandbox")


def body(allowed: set[str], required: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    """The JSON object body, checked for unknown and missing fields (BadRequest naming them)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    missing = sorted(required - set(data))
    if missing:
        raise BadRequest(f"missing field(s): {', '.join(missing)}")
    return data


def _number(value: Any, field: str) -> str:
    text = value.lstrip("+") if isinstance(value, str) else value
    if not ids.is_number(text):
        raise BadRequest(f"{field} must be a phone number of 5-15 digits, country code first")
    return str(text)


def _chat(value: Any, field: str = "chat") -> str:
    try:
        return ids.parse_chat_id(value, field=field)
    except ids.InvalidId as exc:
        raise BadRequest(str(exc)) from exc


@control.get("/health")
def health() -> Response:
    return jsonify(status="ok")


@control.post("/phones")
def create_phone() -> tuple[Response, int]:
    data = body({"number", "name", "about", "business"}, {"number"})
    number = _number(data["number"], "number")
    name = data.get("name", number)
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("name must be a non-empty string")
    if not isinstance(data.get("business", False), bool):
        raise BadRequest("business must be true (a WhatsApp Business account) or false")
    net = network()
    with net.lock:
        phone = net.create_phone(number, name.strip())
        phone.business = bool(data.get("business", False))
        if isinstance(data.get("about"), str):
            phone.about = data["about"]
        return jsonify(phone_view(phone, [])), 201


@control.get("/phones")
def list_phones() -> Response:
    net = network()
    with net.lock:
        phones = net.state.phones.values()
        return jsonify([phone_view(p, [d.id for d in net.devices_of(p.number)]) for p in phones])


@control.get("/phones/<number>")
def get_phone(number: str) -> Response:
    net = network()
    with net.lock:
        phone = net.phone(number)
        return jsonify(phone_view(phone, [d.id for d in net.devices_of(number)]))


@control.patch("/phones/<number>")
def update_phone(number: str) -> Response:
    data = body({"name", "about"})
    net = network()
    with net.lock:
        phone = net.phone(number)
        phone.name = str(data.get("name", phone.name))
        phone.about = str(data.get("about", phone.about))
        net.changed()
        return jsonify(phone_view(phone, [d.id for d in net.devices_of(number)]))


@control.post("/phones/<number>/link")
def link(number: str) -> Response:
    """Link a waiting page: `{"qr": "<what the QR holds>"}` (scan: the bare code, or WhatsApp Web's image form
    `https://wa.me/settings/linked_devices#<code>,<platform>`) or `{"pairingCode": "ABCD1234"}`."""
    data = body({"qr", "pairingCode"})
    net = network()
    net.phone(number)
    if ("qr" in data) == ("pairingCode" in data):
        raise BadRequest("give exactly one of qr and pairingCode")
    if "qr" in data:
        code = ids.scanned_code(data["qr"]) if isinstance(data["qr"], str) else None
        if code is None:  # the bare code, or the wa.me link WhatsApp Web draws
            raise BadRequest("qr must be what a QR holds: <ref>,<key>,<key>,<secret>, maybe in a wa.me link")
        device = net.link_by_qr(number, code)
    else:
        try:
            device = net.link_by_code(number, data["pairingCode"])
        except ids.InvalidId as exc:
            raise BadRequest(str(exc)) from exc
    return jsonify(deviceId=device.id, number=number)


@control.post("/phones/<number>/messages")
def phone_sends(number: str) -> tuple[Response, int]:
    """The phone sends `text` or `media` (or location, vcards, poll) to `to`, optionally quoting."""
    fields = {"to", "text", "media", "caption", "mediaType", "quotedId", "messageId"}
    data = body(fields | {"location", "vcards", "poll", "mentions"}, {"to"})
    to = _chat(data["to"], "to")
    net = network()
    with net.lock:
        net.phone(number)
        quoted = net.message(data["quotedId"]).id if data.get("quotedId") else None
        message = compose.build(net.store, data, quoted=quoted)
        sent = net.send(number, to, message)
        view = inbox_view(net.state, sent, number, None)
        return jsonify(view), 201


@control.get("/phones/<number>/messages")
def phone_inbox(number: str) -> Response:
    """What the phone received (oldest first); `?chat=<jid>` narrows to one chat, `?all=1` adds its own."""
    net = network()
    chat = _chat(request.args["chat"]) if request.args.get("chat") else None
    include_own = request.args.get("all") in ("1", "true")
    with net.lock:
        net.phone(number)
        found = [
            m
            for m in net.state.messages.values()
            if (m.acks.get(number, ACK_FAILED) > ACK_FAILED or (include_own and m.sender == number))
            and (chat is None or net.remote_for(m, number) == chat)
        ]
        media = {m.id: net.store.get_media(m.media.sha256) for m in found if m.media}
        return jsonify([inbox_view(net.state, m, number, media.get(m.id)) for m in found])


@control.post("/phones/<number>/read")
def phone_reads(number: str) -> Response:
    data = body({"chat"}, {"chat"})
    changed = network().read(_number(number, "number"), _chat(data["chat"]))
    return jsonify(read=changed)


@control.post("/phones/<number>/reactions")
def phone_reacts(number: str) -> Response:
    data = body({"messageId", "reaction"}, {"messageId", "reaction"})
    message = actions.react(network(), number, str(data["messageId"]), str(data["reaction"] or ""))
    return jsonify(messageId=message.id, reaction=data["reaction"])


@control.post("/phones/<number>/revoke")
def phone_revokes(number: str) -> Response:
    data = body({"messageId"}, {"messageId"})
    network().phone(number)
    message = actions.revoke(network(), number, str(data["messageId"]))
    return jsonify(messageId=message.id, revoked=True)


@control.post("/phones/<number>/edit")
def phone_edits(number: str) -> Response:
    data = body({"messageId", "text"}, {"messageId", "text"})
    if not isinstance(data["text"], str) or not data["text"]:
        raise BadRequest("text must be a non-empty string")
    network().phone(number)
    message = actions.edit(network(), number, str(data["messageId"]), data["text"])
    return jsonify(messageId=message.id, body=message.body)


@control.post("/phones/<number>/votes")
def phone_votes(number: str) -> Response:
    data = body({"messageId", "options"}, {"messageId", "options"})
    options = data["options"]
    if not isinstance(options, list) or not all(isinstance(o, int) for o in options):
        raise BadRequest("options must be a list of option indexes")
    network().phone(number)
    actions.vote(network(), number, str(data["messageId"]), options)
    return jsonify(messageId=data["messageId"], options=options)


@control.route("/phones/<number>/presence", methods=["GET", "POST"])
def phone_presence(number: str) -> Response:
    """POST `{chat, state}` shows typing/recording/paused; GET lists what this phone was shown."""
    net = network()
    net.phone(number)
    if request.method == "POST":
        data = body({"chat", "state"}, {"chat", "state"})
        if data["state"] not in ("composing", "recording", "paused", "available", "unavailable"):
            raise BadRequest("state must be composing, recording, paused, available or unavailable")
        actions.presence(net, number, _chat(data["chat"]), data["state"])
        return jsonify(ok=True)
    with net.lock:
        mine = ids.user_jid(number)
        shown = [p for p in net.presence if p["from"] != mine and _shown_to(net, p, number)]
        return jsonify(shown)


def _shown_to(net: Any, entry: dict[str, Any], number: str) -> bool:
    chat = entry["chat"]
    if ids.is_group(chat):
        group = net.state.groups.get(chat)
        return bool(group and number in group.participants)
    return bool(chat == ids.user_jid(number))


@control.post("/phones/<number>/status")
def phone_posts_status(number: str) -> tuple[Response, int]:
    """The phone posts a status (`text` with an optional `backgroundColor` (ARGB number) and `font`, or
    `media` with an optional `caption`); every other phone gets it."""
    data = body({"text", "media", "caption", "mediaType", "backgroundColor", "font"})
    style: dict[str, Any] = {k: data.pop(k) for k in ("backgroundColor", "font") if k in data}
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in style.values()):
        raise BadRequest("backgroundColor and font must be numbers (as WhatsApp Web has them)")
    net = network()
    with net.lock:
        net.phone(number)
        message = compose.build(net.store, data)
        message.extra.update(style)
        posted = system.post_status(net, number, message)
        return jsonify(statusId=posted.id, type=posted.type, t=posted.t), 201


@control.post("/phones/<number>/calls")
def phone_calls(number: str) -> tuple[Response, int]:
    """The phone rings `to` (`isVideo` for a video call); nobody answers, so a missed-call log follows."""
    data = body({"to", "isVideo"}, {"to"})
    to = _chat(data["to"], "to")
    if ids.is_group(to):
        raise BadRequest("to must be a phone: the sandbox has no group calls")
    call_id = system.ring(network(), number, ids.number_of(to), is_video=bool(data.get("isVideo")))
    return jsonify(callId=call_id, to=to, isVideo=bool(data.get("isVideo"))), 201


@control.get("/calls/<call_id>")
def get_call(call_id: str) -> Response:
    """A call the sandbox rang: `{id, from, to, isVideo, state: ringing | rejected | missed, t}`."""
    net = network()
    with net.lock:
        call = system.call_view(net, call_id)
    if call is None:
        raise NotFound("no such call", code="call_not_found")
    return jsonify(call)


@control.post("/phones/<number>/block")
def phone_blocks(number: str) -> Response:
    data = body({"jid", "blocked"}, {"jid"})
    blocked = actions.set_blocked(
        network(), number, _chat(data["jid"], "jid"), bool(data.get("blocked", True))
    )
    return jsonify(jid=data["jid"], blocked=blocked)


@control.route("/faults", methods=["GET", "POST", "DELETE"])
def faults() -> Response | tuple[Response, int]:
    """POST `{number, kind, ms?, count?}` injects a fault; DELETE clears them all; GET lists them."""
    net = network()
    if request.method == "DELETE":
        net.clear_faults()
        return jsonify(cleared=True)
    if request.method == "GET":
        with net.lock:
            listed = [{"number": n, "kind": f.kind, **f.params} for n, fs in net.faults.items() for f in fs]
            return jsonify(listed)
    data = body({"number", "kind", "ms", "count"}, {"number", "kind"})
    if data["kind"] not in FAULT_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(FAULT_KINDS)}")
    for name in ("ms", "count"):
        if name in data and (not isinstance(data[name], int) or data[name] < 0):
            raise BadRequest(f"{name} must be a non-negative integer")
    params: dict[str, Any] = {k: data[k] for k in ("ms", "count") if k in data}
    net.add_fault(_number(data["number"], "number"), data["kind"], params)
    return jsonify(number=data["number"], kind=data["kind"], **params), 201


@control.get("/settings")
def get_settings() -> Response:
    return jsonify(network().settings)


@control.put("/settings")
def put_settings() -> Response:
    """Change linking behaviour at run time (reset by `/reset`): `qrInterval` seconds between QR codes (0:
    the server's --qr-interval), `qrRotations` QR codes before a page goes idle, `pairingCodeSeconds` a
    pairing code stays valid."""
    data = body({"qrInterval", "qrRotations", "pairingCodeSeconds"})
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise BadRequest(f"{name} must be a non-negative number")
        if name == "qrRotations" and (value < 1 or value != int(value)):
            raise BadRequest("qrRotations must be a whole number of at least 1")
    net = network()
    with net.lock:
        net.settings.update({name: float(value) for name, value in data.items()})
        return jsonify(net.settings)


@control.get("/devices")
def list_devices() -> Response:
    """Every linked device, with what its page showed of its client when it last connected."""
    net = network()
    with net.lock:
        devices = net.state.devices.values()
        return jsonify(
            [{"id": d.id, "number": d.number, "linkedAt": d.linked_at, "client": d.client} for d in devices]
        )


@control.get("/analytics")
def analytics() -> Response:
    """The analytics beacons pages sent (wa-js's Google Analytics, unless the client disabled it)."""
    net = network()
    with net.lock:
        return jsonify(list(net.analytics))


@control.post("/reset")
def reset() -> Response:
    network().reset()
    return jsonify(reset=True)
