"""Drain requests: asking a live runner (from anywhere that reaches Redis) to hand its sessions over and exit.

`openwa runner --drain <runnerId>` writes `<p>:runner-drain:<runnerId>` (EX one hour, so a request for a
runner that dies meanwhile does not linger) and nudges the runners' wake channel. The runner sees the request
at once (or at its next tick), stops claiming, stops each session process (which stores a final auth
snapshot), releases each lease as soon as that process has exited, nudges the other runners so they claim
the sessions at once, unregisters and exits; it deletes the request last. The requester knows the drain is
done when the runner's heartbeat key is gone. SIGTERM to the runner process does the same drain.
"""

from __future__ import annotations

from redis import Redis

from functions.core.clock import utcnow
from functions.queueing import runner_wake_channel
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

DRAIN_REQUEST_TTL_SECONDS = 3600


def runner_alive(conn: Redis, keys: Keys, runner_id: str) -> bool:
    """Whether the runner's heartbeat key is live (it unregisters when it exits, or expires a TTL later)."""
    with translate_redis_errors():
        return bool(conn.exists(keys.runner(runner_id)))


def request_drain(conn: Redis, keys: Keys, runner_id: str) -> bool:
    """Ask `runner_id` to drain; False (and nothing written) when no such runner is alive."""
    if not runner_alive(conn, keys, runner_id):
        return False
    with translate_redis_errors(), conn.pipeline(transaction=False) as pipe:
        pipe.set(keys.runner_drain(runner_id), utcnow().isoformat(), ex=DRAIN_REQUEST_TTL_SECONDS)
        pipe.publish(runner_wake_channel(keys.prefix), f"drain:{runner_id}")
        pipe.execute()
    return True


def drain_requested(conn: Redis, keys: Keys, runner_id: str) -> bool:
    with translate_redis_errors():
        return bool(conn.exists(keys.runner_drain(runner_id)))


def clear_drain(conn: Redis, keys: Keys, runner_id: str) -> None:
    with translate_redis_errors():
        conn.delete(keys.runner_drain(runner_id))
