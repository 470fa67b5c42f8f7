"""Page calls about the account's own stories (WhatsApp "Status"): post one, remove one.

Registered into `rpc.HANDLERS` on import (web.py imports this module). A story is a message of
`status@broadcast` with the poster as participant (`system.post_status`): every other phone sees it, as
their pages see the phones' stories. Removing revokes it, as wa-js's `WPP.status.remove` does
(revokeStatus): the viewers' pages get `chat.msg_revoke` and the control API no longer lists it for them.
"""

from __future__ import annotations

import time
from typing import Any

from runner.sandbox import actions, compose, system
from runner.sandbox.errors import BadRequest
from runner.sandbox.model import Device
from runner.sandbox.network import Network
from runner.sandbox.rpc import Args, handler
from runner.sandbox.views import STATUS_BROADCAST, message_view

_CONTENT = ("text", "media", "caption", "mediaType", "messageId")
_STYLE = ("backgroundColor", "font")  # a text story's look, kept on the message as wa-js sets it


@handler("status.post")
def _status_post(network: Network, device: Device, args: Args) -> Any:
    """Post `text` (+ `backgroundColor`, `font`) or `media` (+ `caption`, `mediaType`) as a story."""
    if args.get("media"):  # the upload comes first, outside the lock (other phones go on meanwhile)
        time.sleep(network.upload_seconds(device.number))
    with network.lock:
        message = compose.build(network.store, {k: args[k] for k in _CONTENT if args.get(k) is not None})
        if message.media is None:
            message.extra.update({k: args[k] for k in _STYLE if args.get(k) is not None})
        posted = system.post_status(network, device.number, message)
        return message_view(network.state, posted, device.number)


@handler("status.remove")
def _status_remove(network: Network, device: Device, args: Args) -> Any:
    """Revoke one of this phone's live stories: `msg_not_found` for an unknown id, wa-js's
    `error_on_remove_status` for a message that is not an own live story."""
    with network.lock:
        message = network.message(str(args["msgId"]))
        if message.chat != STATUS_BROADCAST or message.sender != device.number or message.revoked:
            raise BadRequest(f"Error on remove status with id {args['msgId']}", code="error_on_remove_status")
    actions.revoke(network, device.number, message.id)
    return True
