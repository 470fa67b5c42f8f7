"""Event channels from the network to linked pages.

Each linked device has a channel: a numbered log (the last `LOG_SIZE` events, kept in memory) and the queues
of its open streams. A page that reconnects with the last number it saw gets what it missed, which is how
WhatsApp delivers "offline" messages to a companion device that was away.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

LOG_SIZE = 5000
Event = dict[str, Any]
# What a stream queue carries: (seq, event), or None meaning "close this stream now" (a fault or a logout).
Item = tuple[int, Event] | None


@dataclass
class _Channel:
    seq: int = 0
    log: deque[tuple[int, Event]] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    streams: set[queue.Queue[Item]] = field(default_factory=set)


class Hub:
    """Thread-safe fan-out of events to device streams."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}

    def publish(self, device_ids: Iterable[str], event: Event) -> None:
        """Append `event` to each device's log and hand it to its open streams."""
        with self._lock:
            for device_id in device_ids:
                channel = self._channels.setdefault(device_id, _Channel())
                channel.seq += 1
                channel.log.append((channel.seq, event))
                for stream in channel.streams:
                    stream.put((channel.seq, event))

    def subscribe(self, device_id: str, since: int | None) -> queue.Queue[Item]:
        """A new stream for `device_id`, pre-filled with the logged events after `since` (None: none)."""
        stream: queue.Queue[Item] = queue.Queue()
        with self._lock:
            channel = self._channels.setdefault(device_id, _Channel())
            if since is not None:
                for seq, event in channel.log:
                    if seq > since:
                        stream.put((seq, event))
            channel.streams.add(stream)
        return stream

    def current_seq(self, device_id: str) -> int:
        with self._lock:
            channel = self._channels.get(device_id)
            return channel.seq if channel else 0

    def unsubscribe(self, device_id: str, stream: queue.Queue[Item]) -> None:
        with self._lock:
            channel = self._channels.get(device_id)
            if channel:
                channel.streams.discard(stream)

    def close_streams(self, device_id: str) -> None:
        """End every open stream of the device (the page sees its connection drop)."""
        with self._lock:
            channel = self._channels.get(device_id)
            for stream in channel.streams if channel else ():
                stream.put(None)

    def forget(self, device_id: str) -> None:
        """Drop a device's channel (it was unlinked), closing its streams first."""
        self.close_streams(device_id)
        with self._lock:
            self._channels.pop(device_id, None)

    def clear(self) -> None:
        with self._lock:
            for channel in self._channels.values():
                for stream in channel.streams:
                    stream.put(None)
            self._channels.clear()
