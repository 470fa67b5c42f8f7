"""Page calls about WhatsApp Channels (newsletters): the channels the phone follows or owns, creating,
deleting, muting, following by id, the directory search and a channel's posts.

Registered into `rpc.HANDLERS` on import (web.py imports this module); the records and rules are in
`channels.py`. Codes are wa-js's where it has them: follow's `newsletter_follow_failed`, ensureNewsletter's
`chat_not_found` for a channel the phone does not have.
"""

from __future__ import annotations

from typing import Any

from runner.sandbox import channels
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import Channel, Device
from runner.sandbox.network import Network
from runner.sandbox.rpc import Args, handler


def chat_model(channel: Channel, viewer: str) -> dict[str, Any]:
    """The newsletter's ChatModel as the NewsletterStore holds it for phone `viewer`."""
    seen = channels.view(channel, viewer)
    last = channel.posts[-1]["t"] if channel.posts else channel.t
    return {
        "id": channel.id,
        "name": channel.name,
        "isNewsletter": True,
        "isGroup": False,
        "isUser": False,
        "t": last,
        "unreadCount": 0,
        "archive": False,
        "pin": 0,
        "isMuted": seen["muted"],
        "muteExpiration": -1 if seen["muted"] else 0,
        "newsletterMetadata": {
            "name": channel.name,
            "description": channel.description,
            "inviteCode": channel.invite_code,
            "size": seen["subscribers"],
            "verified": False,
            "membershipType": seen["role"],
            "creationTime": channel.t,
        },
    }


def _mine(network: Network, device: Device, args: Args) -> Channel:
    """The channel `id` the phone follows or owns (ensureNewsletter's chat_not_found otherwise)."""
    channel = network.state.channels.get(str(args["id"]))
    if channel is None or channel not in channels.of_phone(network.state, device.number):
        raise NotFound(f"Chat not found for {args['id']}", code="chat_not_found")
    return channel


@handler("newsletter.list")
def _list(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        return [chat_model(c, device.number) for c in channels.of_phone(network.state, device.number)]


@handler("newsletter.create")
def _create(network: Network, device: Device, args: Args) -> Any:
    """createNewsletterQuery's answer, as wa-js's create reads it (ResultCreateNewsletter)."""
    with network.lock:
        made = channels.create(
            network.state, device.number, str(args["name"]), str(args.get("description") or "")
        )
        network.changed()
        return {
            "idJid": made.id,
            "inviteCode": made.invite_code,
            "name": made.name,
            "description": made.description or None,
            "subscribersCount": 0,
            "timestamp": made.t,
            "state": "ACTIVE",
        }


@handler("newsletter.destroy")
def _destroy(network: Network, device: Device, args: Args) -> Any:
    """Delete the channel for everyone; only its owner can (`{deleted: false}` otherwise, as destroy.ts
    swallows WhatsApp's refusal)."""
    with network.lock:
        channel = network.state.channels.get(str(args["id"]))
        if channel is None or channel.owner != device.number:
            return {"deleted": False}
        del network.state.channels[channel.id]
        network.changed()
        return {"deleted": True}


@handler("newsletter.mute")
def _mute(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        channel = _mine(network, device, args)
        if args["mute"] is True and device.number not in channel.muted_by:
            channel.muted_by.append(device.number)
        elif args["mute"] is False and device.number in channel.muted_by:
            channel.muted_by.remove(device.number)
        network.changed()
        return chat_model(channel, device.number)


@handler("newsletter.search")
def _search(network: Network, device: Device, args: Args) -> Any:
    """NewsletterSearchResult: the directory's channels matching `query`."""
    with network.lock:
        found = channels.search(network.state, str(args["query"]), int(args.get("limit") or 20))
        return {
            "newsletters": [
                {
                    "idJid": c.id,
                    "name": c.name,
                    "description": c.description,
                    "picture": "",
                    "subscribersCount": len(c.followers),
                    "verification": "UNVERIFIED",
                    "handle": None,
                    "inviteCode": c.invite_code,
                    "creationTime": c.t,
                }
                for c in found
            ],
            "pageInfo": {"hasNextPage": False},
        }


@handler("newsletter.follow")
def _follow(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        channel = network.state.channels.get(str(args["id"]))
        if channel is None:
            raise BadRequest("Failed to follow newsletter: not found", code="newsletter_follow_failed")
        if device.number != channel.owner and device.number not in channel.followers:
            channel.followers.append(device.number)
            network.changed()
        return True


@handler("newsletter.unfollow")
def _unfollow(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        channel = network.state.channels.get(str(args["id"]))
        if channel is not None and device.number in channel.followers:
            channel.followers.remove(device.number)
            channel.muted_by = [n for n in channel.muted_by if n != device.number]
            network.changed()
        return True


@handler("newsletter.messages")
def _messages(network: Network, device: Device, args: Args) -> Any:
    """The channel's last `count` posts, oldest first, as serialized messages."""
    with network.lock:
        channel = _mine(network, device, args)
        count = int(args.get("count") or 50)
        posts = channel.posts[-count:] if count > 0 else []
        return [
            {
                "id": {
                    "fromMe": False,
                    "remote": channel.id,
                    "id": p["id"],
                    "_serialized": f"false_{channel.id}_{p['id']}",
                },
                "type": "chat",
                "body": p["body"],
                "t": p["t"],
                "from": channel.id,
                "isNewsletterMsg": True,
            }
            for p in posts
        ]
