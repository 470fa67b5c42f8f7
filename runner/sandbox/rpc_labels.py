"""Page calls about WhatsApp Business labels: the phone's label set and which of its chats carry which.

Registered into `rpc.HANDLERS` on import (web.py imports this module). Labels are the account's own, kept on
its phone (`Phone.labels`, `ChatState.labels`), so the business app and every linked page see the same set
(`control_business.py` shows the phone's side). Writes on an account that is not a business one are wa-js's
`is_not_business` (assertIsBusiness); an unknown label is `label_not_exist`. WhatsApp numbers labels itself
and does not reuse an id.
"""

from __future__ import annotations

from typing import Any

from runner.sandbox.errors import BadRequest, NotFound
from runner.sandbox.model import Device, Phone
from runner.sandbox.network import Network
from runner.sandbox.rpc import Args, chat_id, handler
from runner.sandbox.views import chat_view

# WhatsApp's label colours, by index (what wa-js's getLabelColorPalette answers).
PALETTE = (
    "#ff9485", "#64c4ff", "#ffd429", "#dfaef0", "#99b6c1", "#55ccb3", "#ff9dff", "#d3a91d", "#6d7cce",
    "#d7e752", "#00d0e2", "#ffc5c7", "#93ceac", "#f74848", "#00a0f2", "#83e422", "#ffaf04", "#b5ebff",
    "#9ba6ff", "#9368cf",
)  # fmt: skip


def label_view(phone: Phone, label_id: str) -> dict[str, Any]:
    """A LabelModel as wa-js's getAllLabels reads it: `{id, name, colorIndex, hexColor, count}`."""
    label = phone.labels[label_id]
    count = sum(1 for state in phone.chats.values() if label_id in state.labels)
    color = int(label["color"])
    return {
        "id": label_id,
        "name": label["name"],
        "colorIndex": color,
        "hexColor": PALETTE[color],
        "count": count,
    }


def _business(phone: Phone) -> Phone:
    if not phone.business:
        raise BadRequest("This account is not a business version", code="is_not_business")
    return phone


def _color(args: Args, default: int) -> int:
    color = args.get("color", default)
    if isinstance(color, bool) or not isinstance(color, int) or not 0 <= color < len(PALETTE):
        raise BadRequest("Color not in pallet", code="color_not_in_pallet")
    return color


def _label(phone: Phone, args: Args) -> str:
    label_id = str(args["id"])
    if label_id not in phone.labels:
        raise NotFound(f"Label with id {label_id} not exist", code="label_not_exist")
    return label_id


@handler("labels.list")
def _list(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        phone = network.phone(device.number)
        return [label_view(phone, label_id) for label_id in phone.labels]


@handler("labels.add")
def _add(network: Network, device: Device, args: Args) -> Any:
    """A new label `name` (`color` an index; the next unused colour when absent)."""
    name = str(args["name"]).strip()
    if not name:
        raise BadRequest("a label needs a name")
    with network.lock:
        phone = _business(network.phone(device.number))
        used = {int(label["color"]) for label in phone.labels.values()}
        color = _color(args, next((i for i in range(len(PALETTE)) if i not in used), 0))
        phone.label_counter += 1
        label_id = str(phone.label_counter)
        phone.labels[label_id] = {"name": name, "color": color}
        network.changed()
        return label_view(phone, label_id)


@handler("labels.edit")
def _edit(network: Network, device: Device, args: Args) -> Any:
    with network.lock:
        phone = _business(network.phone(device.number))
        label = phone.labels[_label(phone, args)]
        label["name"] = str(args.get("name") or label["name"])
        label["color"] = _color(args, int(label["color"]))
        network.changed()
        return label_view(phone, str(args["id"]))


@handler("labels.delete")
def _delete(network: Network, device: Device, args: Args) -> Any:
    """Delete the label; it comes off every chat. `{deleted: false}` for an unknown id (wa-js does not
    throw)."""
    with network.lock:
        phone = _business(network.phone(device.number))
        label_id = str(args["id"])
        if phone.labels.pop(label_id, None) is None:
            return {"deleted": False}
        for state in phone.chats.values():
            if label_id in state.labels:
                state.labels.remove(label_id)
        network.changed()
        return {"deleted": True}


@handler("labels.chat")
def _chat_labels(network: Network, device: Device, args: Args) -> Any:
    """Put label `id` on `chat` (`add`) or take it off; the chat afterwards."""
    chat = chat_id(args)
    with network.lock:
        phone = _business(network.phone(device.number))
        label_id = _label(phone, args)
        state = network.chat_state(device.number, chat)
        if args["add"] is True and label_id not in state.labels:
            state.labels.append(label_id)
        elif args["add"] is False and label_id in state.labels:
            state.labels.remove(label_id)
        network.changed()
        return chat_view(network.state, chat, state)


@handler("labels.palette")
def _palette(network: Network, device: Device, args: Args) -> Any:
    return {"palette": list(PALETTE)}
