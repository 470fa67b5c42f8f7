"""The page's calls into the network (`POST /_wa/rpc/<method>`), made by the WPP double for its phone.

Each handler gets the linked device and the JSON arguments the page sent and returns JSON. The page turns
the results into wa-js shapes (Wid, MsgKey, models); these are the raw records underneath.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from typing import Any

from runner.sandbox import actions, compose, ids
from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import Device
from runner.sandbox.network import Network
from runner.sandbox.views import chat_view, message_view

Args = dict[str, Any]
Handler = Callable[[Network, Device, Args], Any]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


def call(network: Network, device: Device, method: str, args: Args) -> Any:
    """Run `method`; NotFound for an unknown one, BadRequest for bad arguments."""
    func = HANDLERS.get(method)
    if func is None:
        raise NotFound(f"unknown method {method}", code="unknown_method")
    try:
        return func(network, device, args)
    except ids.InvalidId as exc:
        raise BadRequest(str(exc), code="invalid_wid") from exc
    except (KeyError, TypeError) as exc:
        raise BadRequest(f"bad arguments for {method}: {exc}") from exc


def picture_bytes(args: Args) -> bytes | None:
    """The picture a `*.picture` call sets (`data`: the base64 JPEG wa-js sends after resizing), or None to
    remove it; BadRequest `invalid_picture` when it is not base64."""
    if args.get("data") is None:
        return None
    try:
        return base64.b64decode(str(args["data"]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("the picture is not base64", code="invalid_picture") from exc


def chat_id(args: Args, name: str = "chat") -> str:
    return ids.parse_chat_id(args.get(name), field=name)


@handler("bootstrap")
def _bootstrap(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        phone = network.phone(device.number)
        visible = [(jid, state) for jid, state in phone.chats.items() if not state.hidden]
        return {
            "me": network.me(device),
            "deviceId": device.id,
            "about": phone.about,
            "chats": [chat_view(network.state, jid, state) for jid, state in visible],
            "blocked": list(phone.blocked),
        }


@handler("send")
def _send(network: Network, device: Device, args: Args) -> Any:
    chat = chat_id(args)
    quoted = network.message(args["quotedId"]).id if args.get("quotedId") else None
    if args.get("media"):  # the upload comes first, outside the lock (other phones go on meanwhile)
        time.sleep(network.upload_seconds(device.number))
    with network.lock:
        message = compose.build(network.store, args, quoted=quoted)
        sent = network.send(device.number, chat, message, device_id=device.id)
        return message_view(network.state, sent, device.number)


@handler("forward")
def _forward(network: Network, device: Device, args: Args) -> Any:
    chat = chat_id(args)
    with network.lock:
        original = network.message(args["msgId"])
        copy = compose.build(network.store, {"text": "x"})
        copy.type, copy.body, copy.caption = original.type, original.body, original.caption
        copy.media, copy.extra, copy.forwarded = original.media, dict(original.extra), True
        sent = network.send(device.number, chat, copy, device_id=device.id)
        return message_view(network.state, sent, device.number)


@handler("react")
def _react(network: Network, device: Device, args: Args) -> Any:
    actions.react(network, device.number, args["msgId"], str(args.get("reaction") or ""))
    return {"sendMsgResult": "OK"}


@handler("edit")
def _edit(network: Network, device: Device, args: Args) -> Any:
    message = actions.edit(network, device.number, args["msgId"], str(args["text"]))
    with network.lock:
        return message_view(network.state, message, device.number)


@handler("delete")
def _delete(network: Network, device: Device, args: Args) -> Any:
    results = []
    for msg_id in args["ids"]:
        message = network.message(msg_id)
        mine = message.sender == device.number
        if args.get("revoke"):
            actions.revoke(network, device.number, msg_id)
        else:
            actions.delete_for_me(network, device.number, [msg_id])
        key = message_view(network.state, message, device.number)["id"]
        results.append({"id": key["_serialized"], "isRevoked": bool(args.get("revoke")), "isSentByMe": mine})
    return results


@handler("star")
def _star(network: Network, device: Device, args: Args) -> Any:
    actions.star(network, device.number, args["msgId"], bool(args["star"]))
    return {"id": args["msgId"], "star": bool(args["star"])}


@handler("pinMsg")
def _pin_msg(network: Network, device: Device, args: Args) -> Any:
    duration = (args.get("duration") or "SevenDays") if args.get("pin") else None
    message = actions.pin(network, device.number, args["msgId"], duration)
    with network.lock:
        view = message_view(network.state, message, device.number)
        return {"msg": view, "pinned": message.pinned_until > 0}


@handler("read")
def _read(network: Network, device: Device, args: Args) -> Any:
    network.read(device.number, chat_id(args))
    return {"unreadCount": 0}


@handler("chatUpdate")
def _chat_update(network: Network, device: Device, args: Args) -> Any:
    allowed = {"archive", "pin", "mute_expiration", "marked_unread", "hidden", "cleared_at", "unread"}
    changes = {k: v for k, v in args.items() if k in allowed}
    return actions.update_chat(network, device.number, chat_id(args), **changes)


@handler("chats")
def _chats(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        phone = network.phone(device.number)
        order = sorted(phone.chats.items(), key=lambda item: -item[1].t)
        return [chat_view(network.state, jid, state) for jid, state in order if not state.hidden]


@handler("chat")
def _chat(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        chat = chat_id(args)
        if not ids.is_group(chat):
            network.recipients(device.number, chat)  # NotFound for a number that is not on WhatsApp
        elif chat not in network.phone(device.number).chats:  # never a member: WhatsApp Web has no such chat
            raise NotFound(f"Chat not found for {chat}", code="chat_not_found")
        return chat_view(network.state, chat, network.chat_state(device.number, chat))


@handler("messages")
def _messages(network: Network, device: Device, args: Args) -> Any:
    """getMessages: the last `count` (default 20, -1 all) before/after `id`, oldest first."""
    with network.lock:
        found = network.conversation(device.number, chat_id(args))
        if args.get("onlyUnread"):
            found = [m for m in found if m.sender != device.number and m.acks.get(device.number, 0) < 3]
        if args.get("id"):
            anchor = network.message(args["id"]).id
            index = next((i for i, m in enumerate(found) if m.id == anchor), len(found))
            found = found[index + 1 :] if args.get("direction") == "after" else found[:index]
        count = int(args.get("count", 20))
        if count >= 0:
            found = found[:count] if args.get("direction") == "after" else found[-count:] if count else []
        return [message_view(network.state, m, device.number) for m in found]


@handler("messageById")
def _message_by_id(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        message = network.message(args["id"])
        if message.sender != device.number and device.number not in message.acks:
            raise NotFound(f"message {args['id']} not found", code="msg_not_found")
        return message_view(network.state, message, device.number)
