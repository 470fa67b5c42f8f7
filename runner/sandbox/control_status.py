"""The control API's stories (`/_sandbox/phones/<number>/statuses`): what a phone sees in its Status tab.

Posting one as a phone is `POST /_sandbox/phones/<number>/status` (control.py); this lists the live stories
of everyone else the phone sees, oldest first, as `control.phone_inbox` reports messages (media inline as
base64), so a test can check from the phone's side that the linked session's story reached its contacts,
and that a deleted one is gone.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify

from runner.sandbox.control import _number
from runner.sandbox.model import ACK_FAILED
from runner.sandbox.views import STATUS_BROADCAST, inbox_view
from runner.sandbox.web import network

control_status = Blueprint("control_status", __name__, url_prefix="/_sandbox")
STORY_SECONDS = 24 * 3600  # a story disappears a day after it was posted


@control_status.get("/phones/<number>/statuses")
def phone_statuses(number: str) -> Response:
    net = network()
    viewer = _number(number, "number")
    with net.lock:
        net.phone(viewer)
        since = time.time() - STORY_SECONDS
        seen = [
            m
            for m in net.state.messages.values()
            if m.chat == STATUS_BROADCAST
            and m.sender != viewer
            and not m.revoked
            and m.t >= since
            and m.acks.get(viewer, ACK_FAILED) > ACK_FAILED
        ]
        media = {m.id: net.store.get_media(m.media.sha256) for m in seen if m.media}
        return jsonify([inbox_view(net.state, m, viewer, media.get(m.id)) for m in seen])
