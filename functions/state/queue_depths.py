"""How much work waits (`functions.queueing` names the queues): every session's `session:<id>` summed,
`webhooks` and `default`. A depth is RQ's own count (the length of the queue's list): jobs waiting to start,
not running, scheduled or failed ones. For `webhooks` it is the deliveries due now (the ready list), not
RQ jobs: one drain job there delivers a batch of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from redis import Redis
from rq import Queue

from functions.queueing import DEFAULT_QUEUE, WEBHOOKS_READY_KEY, session_queue_name
from functions.state.connection import translate_redis_errors


@dataclass(frozen=True)
class QueueDepths:
    sessions: int
    webhooks: int
    default: int


def _key(conn: Redis, name: str) -> str:
    """RQ's key for the queue (building a Queue does no I/O); RQ owns the layout."""
    return str(Queue(name, connection=conn).key)


def queue_depths(conn: Redis, session_ids: Iterable[str]) -> QueueDepths:
    """The waiting-job counts, in one pipelined round trip whatever the number of sessions."""
    names = [DEFAULT_QUEUE, *(session_queue_name(sid) for sid in session_ids)]
    with translate_redis_errors(), conn.pipeline(transaction=False) as pipe:
        pipe.llen(WEBHOOKS_READY_KEY)
        for name in names:
            pipe.llen(_key(conn, name))
        counts = [int(count) for count in pipe.execute()]
    return QueueDepths(sessions=sum(counts[2:]), webhooks=counts[0], default=counts[1])
