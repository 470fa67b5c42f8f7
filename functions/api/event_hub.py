"""Live events for many SSE clients from one reader per API process and stream.

Each open `GET /api/events` (or a session's) used to run its own XREAD loop: a Redis round trip, a parse
and a frame per client for every event, so 500 clients of a busy gateway cost 500 times the work of one
(`bench.request_capacity`: send p99 x12 under 500 streams). Here one reader per stream key tails Redis for
every client of the process, frames each event once, and hands the frames to its subscribers; each client
only filters and writes. The reader waits `BATCH_SECONDS` between reads so that a burst of events reaches
a client as one write (at most that much added latency). It starts with its first subscriber and ends
with its last.

A client never misses an event between its history and the live feed: it subscribes first (frames queue
up from then on), then reads its history from its resume point, and skips queued frames it already sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import orjson

from functions.core.errors import StateUnavailable
from functions.state.events import EventLog, StoredEvent

log = logging.getLogger(__name__)

BATCH_SECONDS = 0.1
_BLOCK_MS = 4000  # below the Redis client's socket timeout (5 s)
_READ_COUNT = 500
_HISTORY_PAGE = 1000
_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Framed:
    """An event with its SSE message, built once for every client."""

    event: StoredEvent
    frame: bytes


def frame(event: StoredEvent) -> bytes:
    """One SSE message: `id`, `event` and a JSON `data` line (the event's data is embedded verbatim)."""
    head = orjson.dumps(
        {
            "event": event.event,
            "timestamp": event.timestamp,
            "sessionId": event.session_id,
            "eventId": event.id,
        }
    )
    data = head[:-1] + b',"data":' + event.data + b"}"
    lines = [b"id: " + event.stream_id.encode(), b"event: " + event.event.encode(), b"data: " + data]
    return b"\n".join(lines) + b"\n\n"


def stream_position(stream_id: str) -> tuple[int, int]:
    millis, _, sequence = stream_id.partition("-")
    return int(millis), int(sequence or 0)


@dataclass(frozen=True)
class Batch:
    """What one read brought: the framed events, and all their frames joined (for a client that takes
    every event: one write of bytes built once)."""

    items: list[Framed]
    joined: bytes


class Subscription:
    """One client's queue of batches, filled by the reader and emptied by the client's stream. A client
    that falls `MAX_BACKLOG` events behind (it stopped reading, so its writes wait) is cut off: its queue
    would otherwise grow without bound; it resumes from Redis with Last-Event-ID when it reconnects."""

    MAX_BACKLOG = 5000

    def __init__(self) -> None:
        self._batches: deque[Batch] = deque()
        self._queued = 0
        self._ready = threading.Event()
        self.overflowed = False
        self.closed = False  # the process is stopping: the client's stream ends now

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    def push(self, batch: Batch) -> None:
        if self._queued + len(batch.items) > self.MAX_BACKLOG:
            self.overflowed = True
            self._batches.clear()
            self._queued = 0
        else:
            self._batches.append(batch)
            self._queued += len(batch.items)
        self._ready.set()

    def take(self, timeout: float) -> list[Batch]:
        """What arrived since the last call, waiting up to `timeout` seconds for something."""
        if not self._batches:
            self._ready.wait(timeout)
        self._ready.clear()
        taken = list(self._batches)
        self._batches.clear()
        self._queued = 0
        return taken


class EventHub:
    """The process's readers, one per stream key with subscribers. Thread- and greenlet-safe."""

    def __init__(self, log_: EventLog, framing: Callable[[StoredEvent], bytes] | None = None) -> None:
        self._log = log_
        self._frame = framing or frame
        self._lock = threading.Lock()
        self._readers: dict[str, _Reader] = {}
        self.closing = False

    def close(self) -> None:
        """End every subscriber's stream now (the process is stopping: the server waits for open requests,
        and an event stream never ends by itself). Takes no lock, so a signal handler may call it; the
        client reconnects with Last-Event-ID to a process that is up."""
        self.closing = True
        for reader in list(self._readers.values()):
            for subscription in list(reader.subscribers):
                subscription.close()

    def subscribe(self, stream_key: str) -> Subscription:
        subscription = Subscription()
        if self.closing:
            subscription.close()
            return subscription
        with self._lock:
            reader = self._readers.get(stream_key)
            if reader is None:
                # Its starting point is read before the subscriber reads its history, so that whatever
                # comes after that history is the reader's to deliver.
                reader = _Reader(self, stream_key, self._log.last_id(stream_key))
                self._readers[stream_key] = reader
                reader.start()
            reader.subscribers.add(subscription)
        return subscription

    def unsubscribe(self, stream_key: str, subscription: Subscription) -> None:
        with self._lock:
            reader = self._readers.get(stream_key)
            if reader is not None:
                reader.subscribers.discard(subscription)

    def history(self, stream_key: str, after: str) -> Iterator[Framed]:
        """The stream's events after `after`, framed, read in pages straight from Redis."""
        while page := self._log.after(stream_key, after, count=_HISTORY_PAGE):
            yield from (Framed(event, self._frame(event)) for event in page)
            after = page[-1].stream_id

    def _finished(self, reader: _Reader) -> bool:
        """Called by a reader between reads: True (and it is forgotten) once nobody listens."""
        with self._lock:
            if reader.subscribers:
                return False
            if self._readers.get(reader.stream_key) is reader:
                del self._readers[reader.stream_key]
            return True


class _Reader(threading.Thread):
    def __init__(self, hub: EventHub, stream_key: str, position: str) -> None:
        super().__init__(name=f"events:{stream_key}", daemon=True)
        self.hub = hub
        self.stream_key = stream_key
        self.position = position
        self.subscribers: set[Subscription] = set()

    def run(self) -> None:
        while not self.hub._finished(self):
            try:
                positions = {self.stream_key: self.position}
                batch = self.hub._log.read(positions, block_ms=_BLOCK_MS, count=_READ_COUNT)
            except StateUnavailable as exc:
                log.warning("event stream %s unreadable, retrying: %s", self.stream_key, exc)
                time.sleep(_RETRY_SECONDS)
                continue
            if batch:
                self.position = batch[-1][1].stream_id
                frames = [Framed(event, self.hub._frame(event)) for _, event in batch]
                shared = Batch(frames, b"".join(item.frame for item in frames))
                with self.hub._lock:
                    listeners = list(self.subscribers)
                for subscription in listeners:
                    subscription.push(shared)
                time.sleep(BATCH_SECONDS)
