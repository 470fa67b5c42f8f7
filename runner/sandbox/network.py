"""The network: phones, linked devices, message relay and acks, behind one lock.

Every mutation runs under `self.lock`, marks the store dirty and publishes the resulting events to the
affected devices through the hub *while still holding the lock*, so every device sees events in the order the
network applied them. Delayed acks (the `ack_delay` fault) run on timers that take the same lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from runner.sandbox import ids
from runner.sandbox.errors import BadRequest, Conflict, NotFound
from runner.sandbox.hub import Event, Hub
from runner.sandbox.model import (
    ACK_FAILED,
    ACK_READ,
    ACK_RECEIVED,
    ACK_SENT,
    ROLE_MEMBER,
    ChatState,
    Device,
    Message,
    NetworkState,
    Phone,
)
from runner.sandbox.store import Store
from runner.sandbox.views import aggregate_ack, chat_view, key_view, message_view, system_message

FAULT_KINDS = ("disconnect", "logout", "ack_delay", "error_463", "error_475", "slow_upload", "needs_update")
# Linking behaviour a test (or a person) may change at run time. qrInterval 0 means the server's
# --qr-interval; after qrRotations QR codes an unlinked page goes idle (WhatsApp Web's "Click to reload QR
# code", wa-js conn.qrcode_idle) until the page asks for a new one.
DEFAULT_SETTINGS: dict[str, float] = {"qrInterval": 0.0, "qrRotations": 6, "pairingCodeSeconds": 195.0}
TOS_BLOCK = 475  # WhatsApp's error for a send from an account it banned (terms of service)


@dataclass
class PendingPage:
    """A page showing a QR (not linked yet). `linked` is set, with the credentials, when a phone links it."""

    id: str
    ref: str = ""
    qr: str = ""
    code: str | None = None
    code_number: str | None = None
    code_expires: float = 0.0  # monotonic time the pairing code stops working
    linked: dict[str, Any] | None = None
    wake: threading.Event = field(default_factory=threading.Event)
    refresh: threading.Event = field(default_factory=threading.Event)  # an idle page asked for a new QR


@dataclass
class Fault:
    kind: str
    params: dict[str, Any]


class Network:
    """The whole virtual WhatsApp: state, pending pages, faults."""

    def __init__(self, store: Store, hub: Hub) -> None:
        self.lock = threading.RLock()
        self.store = store
        self.hub = hub
        self.state = store.load()
        self.pending: dict[str, PendingPage] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.offline_until: dict[str, float] = {}  # device id -> monotonic time its stream may reopen
        self.presence: list[dict[str, Any]] = []  # what phones were shown (typing, paused), newest last
        self.calls: dict[str, dict[str, Any]] = {}  # call id -> {from, to, isVideo, state, t} (system.ring)
        # Analytics beacons pages sent (wa-js sends them to Google unless WPPConfig.disableGoogleAnalytics).
        self.analytics: list[dict[str, Any]] = []
        self.settings: dict[str, float] = dict(DEFAULT_SETTINGS)  # control API: PUT /_sandbox/settings

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return self.state.to_json()

    def changed(self) -> None:
        self.store.mark_dirty()

    # -- phones ---------------------------------------------------------------------------------------
    def create_phone(self, number: str, name: str) -> Phone:
        """A new virtual phone; Conflict when the number exists."""
        with self.lock:
            if number in self.state.phones:
                raise Conflict(f"phone {number} already exists")
            phone = Phone(number=number, name=name)
            self.state.phones[number] = phone
            self.changed()
            return phone

    def phone(self, number: str) -> Phone:
        """The phone with `number`; NotFound otherwise."""
        phone = self.state.phones.get(number)
        if phone is None:
            raise NotFound(f"no phone with number {number}", code="phone_not_found")
        return phone

    def devices_of(self, number: str) -> list[Device]:
        return [device for device in self.state.devices.values() if device.number == number]

    def publish(self, number: str, event: Event) -> None:
        """Send `event` to every linked device of phone `number`."""
        self.hub.publish([device.id for device in self.devices_of(number)], event)

    # -- linking --------------------------------------------------------------------------------------
    def open_pending(self, page_id: str) -> PendingPage:
        with self.lock:
            return self.pending.setdefault(page_id, PendingPage(id=page_id))

    def rotate_qr(self, page: PendingPage) -> str:
        """Give the page a fresh QR (the previous one stops working, as on WhatsApp Web)."""
        with self.lock:
            page.ref, page.qr = ids.new_qr_string()
            return page.qr

    def refresh_qr(self, page_id: str) -> None:
        """An idle page asks for QR codes again (WhatsApp Web's "Click to reload QR code")."""
        with self.lock:
            page = self.pending.get(page_id)
            if page is None:
                raise NotFound("this page is not waiting to be linked", code="not_pending")
            page.refresh.set()

    def expire_qr(self, page: PendingPage) -> None:
        """The page went idle: its last QR stops working."""
        with self.lock:
            page.ref = page.qr = ""

    def close_pending(self, page_id: str) -> None:
        with self.lock:
            self.pending.pop(page_id, None)

    def pairing_code(self, page_id: str, number: str) -> tuple[str, float]:
        """A pairing code for linking `page_id` to `number`, and the seconds it stays valid (WhatsApp's codes
        expire after about 3.25 min, wa-js linkDeviceCodeLifecycle.ts); a new code replaces the last."""
        with self.lock:
            page = self.pending.get(page_id)
            if page is None:
                raise NotFound("this page is not waiting to be linked", code="not_pending")
            lifetime = float(self.settings["pairingCodeSeconds"])
            page.code, page.code_number = ids.new_pairing_code(), number
            page.code_expires = time.monotonic() + lifetime
            return page.code, lifetime

    def link_by_qr(self, number: str, qr: str) -> Device:
        with self.lock:
            phone = self.phone(number)
            page = next((p for p in self.pending.values() if p.qr and p.qr == qr), None)
            if page is None:
                raise BadRequest("the QR code is unknown or has expired", code="qr_expired")
            return self._link(phone, page)

    def link_by_code(self, number: str, code: str) -> Device:
        with self.lock:
            phone = self.phone(number)
            wanted = ids.normalise_pairing_code(code)
            page = next((p for p in self.pending.values() if p.code == wanted), None)
            if page is None or page.code_number != number:
                raise BadRequest("the pairing code is unknown or for another number", code="code_invalid")
            if page.code_expires < time.monotonic():
                raise BadRequest("the pairing code has expired", code="code_expired")
            return self._link(phone, page)

    def _link(self, phone: Phone, page: PendingPage) -> Device:
        phone.device_counter += 1
        device = Device(
            id=f"{phone.number}:{phone.device_counter}@c.us",
            token=ids.new_token(),
            number=phone.number,
            linked_at=int(time.time()),
        )
        self.state.devices[device.token] = device
        self.pending.pop(page.id, None)
        page.linked = {"token": device.token, "deviceId": device.id, **self.me(device)}
        page.wake.set()
        self.changed()
        return device

    def me(self, device: Device) -> dict[str, Any]:
        phone = self.phone(device.number)
        return {
            "wid": ids.user_jid(phone.number),
            "lid": ids.lid_of(phone.number),
            "pushName": phone.name,
            "number": phone.number,
            "business": phone.business,  # Conn.isSMB: WPP.profile.isBusiness()
        }

    def device(self, token: str) -> Device | None:
        with self.lock:
            return self.state.devices.get(token)

    def unlink(self, device: Device, *, by_phone: bool) -> None:
        """Remove a linked device. When the phone does it, the page is told (it then shows a new QR)."""
        with self.lock:
            self.state.devices.pop(device.token, None)
            if by_phone:
                self.hub.publish([device.id], {"type": "logout", "reason": "device_removed"})
            self.hub.forget(device.id)
            self.changed()

    # -- messages -------------------------------------------------------------------------------------
    def send(self, sender: str, chat: str, message: Message, *, device_id: str | None = None) -> Message:
        """Relay `message` (id, type and content filled in) from `sender` to `chat`.

        A message id the sender already used returns the stored message and relays nothing (WhatsApp
        de-duplicates by id). Raises NotFound for an unknown recipient or group.
        """
        with self.lock:
            existing = self.state.messages.get(message.id)
            if existing is not None:
                if existing.sender != sender:
                    raise Conflict(f"message id {message.id} is taken", code="msg_id_taken")
                return existing
            recipients = self.recipients(sender, chat)
            message.sender, message.chat, message.from_device = sender, chat, device_id
            error = self._group_refusal(sender, chat) or self._send_error(sender)
            message.acks = dict.fromkeys(recipients, ACK_FAILED if error else ACK_SENT)
            self.state.messages[message.id] = message
            starting = [] if error else self._new_chats(message, [sender, *recipients])
            self._touch_chats(message, recipients, delivered=not error)
            for number in starting:  # a chat's first message: WhatsApp shows the encryption notice first
                notice = system_message(self.remote_for(message, number), number, "e2e_notification")
                self.publish(number, {"type": "message", "msg": notice})
            self._publish_message(message, [sender, *recipients] if not error else [sender])
            if error == TOS_BLOCK:  # the account is banned: WhatsApp Web's stream mode says so
                self.publish(sender, {"type": "stream_mode", "mode": "TOS_BLOCK"})
            if not error:
                self._schedule_delivery(message, recipients)
            self.changed()
            return message

    def recipients(self, sender: str, chat: str) -> list[str]:
        """Who receives a message from `sender` in `chat`; NotFound when the chat does not exist."""
        if ids.is_group(chat):
            group = self.state.groups.get(chat)
            if group is None or sender not in group.participants:
                raise NotFound(f"group {chat} not found", code="chat_not_found")
            return [number for number in group.participants if number != sender]
        number = ids.number_of(chat)
        if number not in self.state.phones:
            raise NotFound(f"{chat} is not on WhatsApp (no such sandbox phone)", code="chat_not_found")
        if ids.user_jid(number) in self.phone(sender).blocked:
            raise BadRequest(f"{chat} is blocked; unblock it to send", code="chat_blocked")
        return [number]

    def _group_refusal(self, sender: str, chat: str) -> int | None:
        """403 (WhatsApp's not-authorized) for a member's message to an announce group: only its admins
        send there, and the server fails anyone else's message (ack -1) without relaying it."""
        group = self.state.groups.get(chat)
        if group is not None and group.announce and group.participants.get(sender) == ROLE_MEMBER:
            return 403
        return None

    def _send_error(self, sender: str) -> int | None:
        """The WhatsApp error code an active error fault gives this send (and counts it), else None."""
        fault = self._take_fault(sender, ("error_463", "error_475"))
        return int(fault.kind.split("_")[1]) if fault else None

    def upload_seconds(self, sender: str) -> float:
        """How long the media upload of `sender`'s next send takes (a `slow_upload` fault, counted)."""
        with self.lock:
            fault = self._take_fault(sender, ("slow_upload",))
            return float(fault.params.get("ms", 30_000)) / 1000 if fault else 0.0

    def _take_fault(self, sender: str, kinds: tuple[str, ...]) -> Fault | None:
        """The first active fault of `kinds` for `sender`, one use of its `count` taken."""
        for fault in self.faults.get(sender, []):
            if fault.kind in kinds:
                remaining = fault.params.get("count")
                if isinstance(remaining, int):
                    if remaining <= 0:
                        continue
                    fault.params["count"] = remaining - 1
                return fault
        return None

    def _new_chats(self, message: Message, numbers: list[str]) -> list[str]:
        """Those of `numbers` for whom `message` starts a one-to-one chat."""
        if ids.is_group(message.chat):
            return []
        return [n for n in numbers if self.remote_for(message, n) not in self.phone(n).chats]

    def _touch_chats(self, message: Message, recipients: list[str], *, delivered: bool) -> None:
        sender_state = self.chat_state(message.sender, message.chat)
        sender_state.t, sender_state.hidden = message.t, False
        for number in recipients if delivered else []:
            state = self.chat_state(number, self.remote_for(message, number))
            if ids.user_jid(message.sender) in self.phone(number).blocked:
                continue
            state.t, state.hidden, state.unread = message.t, False, state.unread + 1

    def chat_state(self, number: str, chat: str) -> ChatState:
        return self.phone(number).chats.setdefault(chat, ChatState())

    def remote_for(self, message: Message, viewer: str) -> str:
        return str(key_view(message, viewer)["remote"])

    def _publish_message(self, message: Message, numbers: list[str]) -> None:
        for number in numbers:
            if number != message.sender and ids.user_jid(message.sender) in self.phone(number).blocked:
                continue  # a blocked sender's messages never reach the blocker
            view = message_view(self.state, message, number, new=True)
            # The chat as this phone now sees it rides along, as WhatsApp pushes chat updates with a
            # message: the page need not ask for it (one request per message otherwise).
            remote = str(view["id"]["remote"])
            chat = chat_view(self.state, remote, self.chat_state(number, remote))
            self.publish(number, {"type": "message", "msg": view, "chat": chat})

    def _schedule_delivery(self, message: Message, recipients: list[str]) -> None:
        reachable = [n for n in recipients if ids.user_jid(message.sender) not in self.phone(n).blocked]
        delay = self._ack_delay(message.sender, recipients)
        if delay <= 0:
            self.set_ack(message, reachable, ACK_RECEIVED)
            return
        timer = threading.Timer(delay, self._deliver_later, (message.id, reachable))
        timer.daemon = True
        timer.start()

    def _deliver_later(self, message_id: str, recipients: list[str]) -> None:
        with self.lock:
            message = self.state.messages.get(message_id)
            if message is not None:
                self.set_ack(message, recipients, ACK_RECEIVED)

    def _ack_delay(self, sender: str, recipients: list[str]) -> float:
        delays = [
            float(fault.params.get("ms", 3000)) / 1000
            for number in [sender, *recipients]
            for fault in self.faults.get(number, [])
            if fault.kind == "ack_delay"
        ]
        return max(delays, default=0.0)

    def set_ack(self, message: Message, readers: list[str], ack: int) -> None:
        """Raise the ack of `readers` to `ack` and tell the sender's devices when the aggregate rose."""
        before = aggregate_ack(message)
        for number in readers:
            if message.acks.get(number, ACK_SENT) < ack:
                message.acks[number] = ack
        after = aggregate_ack(message)
        self.changed()
        if after > before:
            key = key_view(message, message.sender)
            event = {"type": "ack", "ack": after, "chat": key["remote"], "ids": [key]}
            self.publish(message.sender, event)

    def conversation(self, viewer: str, chat: str) -> list[Message]:
        """The messages of `chat` as `viewer` has them (oldest first), minus cleared and deleted ones."""
        state = self.phone(viewer).chats.get(chat, ChatState())
        return [
            message
            for message in self.state.messages.values()
            if self.remote_for(message, viewer) == chat
            and (message.sender == viewer or message.acks.get(viewer, ACK_FAILED) > ACK_FAILED)
            and viewer not in message.deleted_for
            and message.t > state.cleared_at
        ]

    def read(self, reader: str, chat: str) -> int:
        """`reader` opens `chat`: every message to them in it becomes read. Returns how many changed."""
        with self.lock:
            changed = 0
            for message in self.conversation(reader, chat):
                if message.sender != reader and message.acks.get(reader, 0) < ACK_READ:
                    self.set_ack(message, [reader], ACK_READ)
                    changed += 1
            state = self.chat_state(reader, chat)
            state.unread, state.marked_unread = 0, False
            self.changed()
            return changed

    def message(self, message_id: str) -> Message:
        """The message with bare or serialised id `message_id`; NotFound otherwise."""
        bare = ids.check_message_id(message_id) if isinstance(message_id, str) else ""
        message = self.state.messages.get(bare)
        if message is None:
            raise NotFound(f"message {message_id} not found", code="msg_not_found")
        return message

    # -- faults and reset -----------------------------------------------------------------------------
    def add_fault(self, number: str, kind: str, params: dict[str, Any]) -> None:
        """Inject a fault for phone `number`; see the control API for each kind's effect."""
        with self.lock:
            self.phone(number)
            if kind == "logout":
                for device in self.devices_of(number):
                    self.unlink(device, by_phone=True)
                return
            if kind == "needs_update":  # WhatsApp Web is told its version is too old (Cmd needs_update)
                for device in self.devices_of(number):
                    self.hub.publish([device.id], {"type": "needs_update"})
                return
            if kind == "disconnect":
                until = time.monotonic() + float(params.get("ms", 3000)) / 1000
                for device in self.devices_of(number):
                    self.offline_until[device.id] = until
                    self.hub.close_streams(device.id)
                return
            self.faults.setdefault(number, []).append(Fault(kind, dict(params)))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.offline_until.clear()

    def reset(self) -> None:
        """Forget everything: phones, devices, chats, faults; open pages drop and show a new QR."""
        with self.lock:
            self.state = NetworkState()
            self.faults.clear()
            self.offline_until.clear()
            self.presence.clear()
            self.analytics.clear()
            self.settings = dict(DEFAULT_SETTINGS)
            self.hub.clear()
            self.changed()
