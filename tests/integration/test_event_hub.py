"""One reader per process feeds every SSE client (`functions.api.event_hub`): a client that joins while
events keep coming gets each event after its resume point exactly once, in order — its history from Redis
and the live feed meet without a gap or an overlap."""

from __future__ import annotations

import threading
import time

from redis import Redis

from functions.api.event_hub import Batch, EventHub, Framed, Subscription
from functions.api.routes.events import _stream
from functions.config import Settings
from functions.state.events import StoredEvent
from functions.state.keys import Keys
from functions.webhooks.dispatch import event_log

EVENTS = 400
CLIENTS = 6


def _ids(body: bytes) -> list[str]:
    return [line[4:] for line in body.decode().split("\n") if line.startswith("id: ")]


def test_clients_joining_mid_burst_get_every_later_event_once_and_in_order(
    redis_conn: Redis, make_settings: object
) -> None:
    settings: Settings = make_settings()  # type: ignore[operator]
    log = event_log(redis_conn, settings)
    hub = EventHub(log)
    key = Keys(settings.redis_prefix).session_events("s1")
    published: list[str] = []

    def publish() -> None:
        for n in range(EVENTS):
            published.append(
                log.append("s1", "message.received", b'{"n": %d}' % n, "t", int(time.time() * 1000))
            )
            time.sleep(0.002)

    publisher = threading.Thread(target=publish)
    publisher.start()
    received: dict[int, tuple[str, list[str]]] = {}

    def client(index: int) -> None:
        time.sleep(index * 0.12)  # joins at a different point of the burst
        after = log.last_id(key)
        body = b"".join(_stream(hub, key, after, None, None, keepalive=0.2, max_seconds=3.0))
        received[index] = (after, _ids(body))

    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    for thread in (publisher, *clients):
        thread.join()

    assert len(published) == EVENTS
    for after, ids in received.values():
        expected = [i for i in published if tuple(map(int, i.split("-"))) > tuple(map(int, after.split("-")))]
        assert ids == expected
    assert len({len(ids) for _, ids in received.values()}) > 1  # they really joined at different points


def test_a_client_that_stops_reading_is_cut_off_instead_of_queueing_without_bound() -> None:
    subscription = Subscription()
    event = StoredEvent("1-0", "s1", "message.received", "t", b"{}", "1-0")
    batch = Batch([Framed(event, b"x")] * 1000, b"x" * 1000)
    for _ in range(Subscription.MAX_BACKLOG // 1000):
        subscription.push(batch)
    assert not subscription.overflowed
    subscription.push(batch)  # one more would pass the backlog
    assert subscription.overflowed
    assert subscription.take(0) == []  # what was queued is dropped; the client resumes from Redis
