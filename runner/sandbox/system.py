"""What WhatsApp pushes besides people's messages: system messages, status posts and calls.

WhatsApp Web keeps these in its message store like any message, so wa-js announces them as
`chat.new_message` (registerNewMessageEvent.ts) with a system type: `e2e_notification` when a chat starts
(the "messages are end-to-end encrypted" line), `gp2` for group changes (its `subtype`, `author` and
`recipients`, as whatsapp-web.js reads them), `call_log` after a call. Status posts are ordinary messages of
the chat `status@broadcast` with the poster as `author`. Calls ring the callee's pages
(`call.incoming_call`, wa-js registerIncomingCallEvent.ts). System messages are not stored (the control
API's inbox lists what people sent); status posts are, so their media downloads.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from runner.sandbox import ids
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import ACK_RECEIVED, Message
from runner.sandbox.network import Network
from runner.sandbox.views import STATUS_BROADCAST, message_view, system_message


def group_notice(
    network: Network, group_id: str, members: list[str], actor: str, subtype: str, **fields: Any
) -> None:
    """A `gp2` message in `group_id` for each of `members`: `subtype` (add, invite, remove, leave, promote,
    demote, create, subject, description, membership_approval_request) done by `actor`."""
    for number in members:
        if number in network.state.phones:
            msg = system_message(group_id, number, "gp2", subtype=subtype, author=actor, **fields)
            network.publish(number, {"type": "message", "msg": msg})


def post_status(network: Network, poster: str, message: Message) -> Message:
    """`poster` posts a status (text or media): every other phone's pages get it in `status@broadcast`
    (the sandbox has no address book, so everyone sees everyone's status)."""
    with network.lock:
        network.phone(poster)
        viewers = [number for number in network.state.phones if number != poster]
        message.sender, message.chat = poster, STATUS_BROADCAST
        message.acks = dict.fromkeys(viewers, ACK_RECEIVED)
        network.state.messages[message.id] = message
        for number in viewers:
            network.publish(number, {"type": "message", "msg": message_view(network.state, message, number)})
        network.changed()
        return message


# WhatsApp rings a call for about this long before it counts as missed.
RING_SECONDS = 45
MAX_CALLS = 1000  # calls remembered (the oldest forgotten first)


def call_view(network: Network, call_id: str) -> dict[str, Any] | None:
    """A call as the network knows it: `ringing` until rejected (`rejected`) or RING_SECONDS pass
    (`missed`)."""
    call = network.calls.get(call_id)
    if call is None:
        return None
    if call["state"] == "ringing" and time.time() - call["t"] > RING_SECONDS:
        call["state"] = "missed"
    return dict(call)


def reject_call(network: Network, callee: str, call_id: str) -> dict[str, Any]:
    """`callee` rejects a call ringing on its phone: NotFound `call_not_found` for a call it is not getting,
    BadRequest `call_is_not_incoming_ring` once it no longer rings (wa-js reject.ts's codes)."""
    with network.lock:
        call = call_view(network, call_id)
        if call is None or call["to"] != ids.user_jid(callee):
            raise NotFound(f"Call {call_id} not found", code="call_not_found")
        if call["state"] != "ringing":
            raise BadRequest(f"Call {call_id} is not incoming ring", code="call_is_not_incoming_ring")
        network.calls[call_id]["state"] = "rejected"
        return {**call, "state": "rejected"}


def ring(network: Network, caller: str, callee: str, *, is_video: bool) -> str:
    """`caller` rings `callee`'s pages; nobody answers, so a `call_log` (missed) follows. Returns the
    call id."""
    with network.lock:
        network.phone(caller)
        network.phone(callee)
        call_id = secrets.token_hex(16).upper()
        now = int(time.time())
        for old in list(network.calls)[: max(len(network.calls) - MAX_CALLS + 1, 0)]:
            del network.calls[old]
        network.calls[call_id] = {
            "id": call_id,
            "from": ids.user_jid(caller),
            "to": ids.user_jid(callee),
            "isVideo": is_video,
            "state": "ringing",
            "t": now,
        }
        network.publish(
            callee,
            {
                "type": "call",
                "id": call_id,
                "from": ids.user_jid(caller),
                "peerJid": f"{caller}:0@c.us",
                "isVideo": is_video,
                "isGroup": False,
                "offerTime": now,
            },
        )
        chat = ids.user_jid(caller)
        log = system_message(chat, callee, "call_log", subtype="miss", isVideoCall=is_video)
        network.publish(callee, {"type": "message", "msg": log})
        return call_id
