"""The control API's business surfaces, as the phones see them: a business phone's labels and which of its
chats carry them (its business app's view), and WhatsApp Channels (a phone creates one and posts to it, any
phone finds one by invite code, follows it, reads it).

Creating a business phone is `POST /_sandbox/phones` with `business: true` (control.py). Bodies are checked
like control.py's (unknown or missing fields are 400).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from runner.sandbox import channels, ids
from runner.sandbox.control import _number, body
from runner.sandbox.errors import BadRequest
from runner.sandbox.rpc_labels import label_view
from runner.sandbox.web import network

control_business = Blueprint("control_business", __name__, url_prefix="/_sandbox")


@control_business.get("/phones/<number>/labels")
def phone_labels(number: str) -> Response:
    """The phone's labels, each with the chats carrying it: `[{id, name, colorIndex, hexColor, count,
    chats}]` (chats as phone or group jids)."""
    net = network()
    with net.lock:
        phone = net.phone(_number(number, "number"))
        out = []
        for label_id in phone.labels:
            chats = [jid for jid, state in phone.chats.items() if label_id in state.labels]
            out.append({**label_view(phone, label_id), "chats": chats})
        return jsonify(out)


@control_business.post("/phones/<number>/channels")
def phone_creates_channel(number: str) -> tuple[Response, int]:
    """The phone creates a channel it owns: `{name, description?}` → the channel (with its invite code)."""
    data = body({"name", "description"}, {"name"})
    if not isinstance(data["name"], str) or not isinstance(data.get("description", ""), str):
        raise BadRequest("name and description must be strings")
    net = network()
    with net.lock:
        owner = net.phone(_number(number, "number")).number
        made = channels.create(net.state, owner, data["name"], data.get("description", ""))
        net.changed()
        return jsonify(channels.view(made, owner)), 201


@control_business.get("/phones/<number>/channels")
def phone_channels(number: str) -> Response:
    """The channels the phone owns or follows, as it sees them (posts included)."""
    net = network()
    with net.lock:
        viewer = net.phone(_number(number, "number")).number
        return jsonify([channels.view(c, viewer) for c in channels.of_phone(net.state, viewer)])


@control_business.post("/channels/<channel_id>/posts")
def owner_posts(channel_id: str) -> tuple[Response, int]:
    """The channel's owner posts `{text}` to it (`number`: the owner's, checked)."""
    data = body({"number", "text"}, {"number", "text"})
    if not isinstance(data["text"], str):
        raise BadRequest("text must be a string")
    net = network()
    with net.lock:
        author = net.phone(_number(data["number"], "number")).number
        entry = channels.post(net.state, channel_id, author, data["text"])
        net.changed()
        return jsonify(entry), 201


@control_business.get("/channels/invite/<code>")
def find_by_invite(code: str) -> Response:
    """The channel with this invite code, as a stranger sees it (404 `channel_invite_invalid`)."""
    net = network()
    with net.lock:
        found = channels.by_invite(net.state, code)
        return jsonify({**channels.view(found, ""), "followers": [ids.user_jid(n) for n in found.followers]})


@control_business.post("/phones/<number>/channels/follow")
def phone_follows(number: str) -> Response:
    """The phone follows the channel with invite code `{inviteCode}`."""
    data = body({"inviteCode"}, {"inviteCode"})
    net = network()
    with net.lock:
        viewer = net.phone(_number(number, "number")).number
        found = channels.by_invite(net.state, str(data["inviteCode"]))
        if viewer != found.owner and viewer not in found.followers:
            found.followers.append(viewer)
            net.changed()
        return jsonify(channels.view(found, viewer))
