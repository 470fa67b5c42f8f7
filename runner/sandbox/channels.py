"""WhatsApp Channels (newsletters) on the sandbox network: a phone owns a channel and posts to it, other
phones follow it by its invite code and read it.

Pure operations on `NetworkState.channels` (the caller holds the network lock); the page reaches them through
`rpc_channels.py`, tests and people through `control_business.py`. A channel's id is `<digits>@newsletter`,
its invite code what follows `https://whatsapp.com/channel/`. Deleting a channel removes it for everyone.
"""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from runner.sandbox import ids
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import Channel, NetworkState

_CODE_ALPHABET = string.ascii_letters + string.digits
MAX_NAME = 100
MAX_DESCRIPTION = 2048


def _new_id(state: NetworkState) -> str:
    while True:
        candidate = f"1203634{secrets.randbelow(10**11):011d}@newsletter"
        if candidate not in state.channels:
            return candidate


def create(state: NetworkState, owner: str, name: str, description: str = "") -> Channel:
    """A new channel owned by phone `owner` (BadRequest for a blank or long name or description)."""
    if not name.strip() or len(name) > MAX_NAME:
        raise BadRequest(f"a channel name has 1-{MAX_NAME} characters", code="invalid_name")
    if len(description) > MAX_DESCRIPTION:
        raise BadRequest(f"a channel description has at most {MAX_DESCRIPTION} characters")
    code = "0029Va" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    channel = Channel(_new_id(state), name.strip(), owner, code, int(time.time()), description=description)
    state.channels[channel.id] = channel
    return channel


def get(state: NetworkState, channel_id: str) -> Channel:
    channel = state.channels.get(channel_id)
    if channel is None:
        raise NotFound(f"Channel {channel_id} not found", code="channel_not_found")
    return channel


def by_invite(state: NetworkState, code: str) -> Channel:
    for channel in state.channels.values():
        if channel.invite_code == code:
            return channel
    raise NotFound("No channel has this invite code", code="channel_invite_invalid")


def of_phone(state: NetworkState, number: str) -> list[Channel]:
    """The channels phone `number` owns or follows."""
    return [c for c in state.channels.values() if c.owner == number or number in c.followers]


def post(state: NetworkState, channel_id: str, author: str, text: str) -> dict[str, Any]:
    """The owner posts `text` (BadRequest when `author` is not the owner or the text is empty)."""
    channel = get(state, channel_id)
    if channel.owner != author:
        raise BadRequest("only the channel's owner posts to it", code="not_channel_owner")
    if not text:
        raise BadRequest("a post needs text")
    entry = {"id": ids.new_message_id(), "body": text, "t": int(time.time())}
    channel.posts.append(entry)
    return entry


def search(state: NetworkState, query: str, limit: int) -> list[Channel]:
    """The directory: channels whose name holds `query` (any case) or whose invite code is `query`."""
    wanted = query.strip().lower()
    found = [c for c in state.channels.values() if wanted in c.name.lower() or c.invite_code == query.strip()]
    return found[: max(limit, 0)]


def view(channel: Channel, viewer: str) -> dict[str, Any]:
    """The channel as phone `viewer` has it: `{id, name, description, inviteCode, subscribers, owner, role,
    muted, t, posts}` (`role`: owner, subscriber or guest)."""
    role = "owner" if channel.owner == viewer else "subscriber" if viewer in channel.followers else "guest"
    return {
        "id": channel.id,
        "name": channel.name,
        "description": channel.description,
        "inviteCode": channel.invite_code,
        "subscribers": len(channel.followers),
        "owner": ids.user_jid(channel.owner),
        "role": role,
        "muted": viewer in channel.muted_by,
        "t": channel.t,
        "posts": list(channel.posts),
    }
