"""Turn a send request (from the page's WPP call or the control API) into a Message.

A request is a dict with exactly one content part: `text`, `media` ({base64, mimetype, filename}),
`location` ({lat, lng, name?, address?, url?}), `vcards` ([{id, name}]) or `poll` ({name, options,
selectableCount?}); plus optional `caption`, `mediaType` (image, video, audio, ptt, document, sticker),
`messageId`, `quotedId`, `mentions`, `forwarded`. Bad input raises BadRequest naming the field.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from runner.sandbox import ids
from runner.sandbox.errors import BadRequest
from runner.sandbox.model import Media, Message
from runner.sandbox.store import Store

CONTENT_PARTS = ("text", "media", "location", "vcards", "poll")
MEDIA_TYPES = ("image", "video", "audio", "ptt", "document", "sticker")
MAX_MEDIA_BYTES = 64 * 1024 * 1024


def build(store: Store, spec: dict[str, Any], *, quoted: str | None = None) -> Message:
    """A Message with id, type, time and content; sender, chat and acks are filled in by the network."""
    parts = [part for part in CONTENT_PARTS if spec.get(part) is not None]
    if len(parts) != 1:
        raise BadRequest(f"give exactly one of {', '.join(CONTENT_PARTS)}")
    try:
        message_id = (
            ids.check_message_id(spec["messageId"]) if spec.get("messageId") else ids.new_message_id()
        )
    except ids.InvalidId as exc:
        raise BadRequest(str(exc)) from exc
    message = Message(id=message_id, sender="", chat="", type="chat", t=int(time.time()), quoted=quoted)
    _CONTENT[parts[0]](store, spec, message)
    mentions = spec.get("mentions") or []
    if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
        raise BadRequest("mentions must be a list of chat ids")
    message.mentions = mentions
    message.forwarded = bool(spec.get("forwarded"))
    return message


def _text(store: Store, spec: dict[str, Any], message: Message) -> None:
    if not isinstance(spec["text"], str) or not spec["text"]:
        raise BadRequest("text must be a non-empty string")
    message.body = spec["text"]


def _media(store: Store, spec: dict[str, Any], message: Message) -> None:
    media = spec["media"]
    if not isinstance(media, dict) or not isinstance(media.get("base64"), str):
        raise BadRequest("media must be an object with base64, mimetype and optional filename")
    mimetype = media.get("mimetype")
    if not isinstance(mimetype, str) or "/" not in mimetype:
        raise BadRequest("media.mimetype must be a MIME type such as image/png")
    try:
        data = base64.b64decode(media["base64"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("media.base64 is not valid base64") from exc
    if not data or len(data) > MAX_MEDIA_BYTES:
        raise BadRequest(f"media must be 1 byte to {MAX_MEDIA_BYTES} bytes")
    filename = media.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise BadRequest("media.filename must be a string")
    kind = spec.get("mediaType") or detect_type(mimetype)
    if kind not in MEDIA_TYPES:
        raise BadRequest(f"mediaType must be one of {', '.join(MEDIA_TYPES)}")
    message.type = kind
    message.media = Media(sha256=store.put_media(data), mimetype=mimetype, size=len(data), filename=filename)
    caption = spec.get("caption")
    if caption is not None and not isinstance(caption, str):
        raise BadRequest("caption must be a string")
    message.caption = caption
    message.body = caption or ""


def detect_type(mimetype: str) -> str:
    """The WhatsApp message type for a MIME type, as wa-js's `auto-detect` picks it."""
    major = mimetype.split("/")[0]
    if mimetype == "image/webp":
        return "sticker"
    return {"image": "image", "video": "video", "audio": "audio"}.get(major, "document")


def _location(store: Store, spec: dict[str, Any], message: Message) -> None:
    loc = spec["location"]
    try:
        lat, lng = float(loc["lat"]), float(loc["lng"])
    except (TypeError, KeyError, ValueError) as exc:
        raise BadRequest("location needs numeric lat and lng") from exc
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise BadRequest("location lat/lng out of range")
    name, address = loc.get("name"), loc.get("address")
    message.type = "location"
    label = "\n".join(str(part) for part in (name, address) if part)
    message.extra = {"lat": lat, "lng": lng, "loc": label, "isLive": False}
    if loc.get("url"):
        message.extra["clientUrl"] = str(loc["url"])


def _vcards(store: Store, spec: dict[str, Any], message: Message) -> None:
    cards = spec["vcards"]
    if not isinstance(cards, list) or not cards:
        raise BadRequest("vcards must be a non-empty list of {id, name}")
    rendered = []
    for card in cards:
        if not isinstance(card, dict) or not isinstance(card.get("name"), str):
            raise BadRequest("each vcard needs id and name")
        try:
            number = ids.number_of(ids.parse_chat_id(card.get("id"), field="vcards.id"))
        except ids.InvalidId as exc:
            raise BadRequest(str(exc)) from exc
        rendered.append({"displayName": card["name"], "vcard": vcard(card["name"], number)})
    if len(rendered) == 1:
        message.type, message.body = "vcard", rendered[0]["vcard"]
        message.extra = {"vcardFormattedName": rendered[0]["displayName"]}
    else:
        message.type, message.extra = "multi_vcard", {"vcardList": rendered}


def vcard(name: str, number: str) -> str:
    return (
        f"BEGIN:VCARD\nVERSION:3.0\nN:;{name};;;\nFN:{name}\n"
        f"TEL;type=CELL;type=VOICE;waid={number}:+{number}\nEND:VCARD"
    )


def _poll(store: Store, spec: dict[str, Any], message: Message) -> None:
    poll = spec["poll"]
    options = poll.get("options") if isinstance(poll, dict) else None
    if not isinstance(poll, dict) or not isinstance(poll.get("name"), str) or not isinstance(options, list):
        raise BadRequest("poll needs a name and a list of options")
    if (
        len(options) < 2
        or not all(isinstance(o, str) and o for o in options)
        or len(set(options)) < len(options)
    ):
        raise BadRequest("poll options must be 2 or more distinct strings")
    selectable = poll.get("selectableCount", 0)
    if not isinstance(selectable, int) or not 0 <= selectable <= len(options):
        raise BadRequest("poll selectableCount must be 0 (any) up to the number of options")
    message.type = "poll_creation"
    message.extra = {
        "pollName": poll["name"],
        "pollOptions": [{"name": option, "localId": index} for index, option in enumerate(options)],
        "pollSelectableOptionsCount": selectable,
    }


_CONTENT = {"text": _text, "media": _media, "location": _location, "vcards": _vcards, "poll": _poll}
