"""Session leases with fencing generations, and runner heartbeats, in Redis.

A lease (`<p>:lease:session:<id>`, value `<runnerId>|<generation>`, PX = SESSION_LEASE_TTL) says which
runner holds a session. Claiming is `SET NX PX` done in one script with an increment of the session's
generation counter, so every claim gets a generation larger than any before it. Renew and release only act
while the stored value is still exactly the caller's token: a runner whose lease expired and was claimed by
another can neither extend nor delete the newcomer's lease, and a session process checks its token before
reporting status, so a stale holder's late writes are refused (fencing).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass

from redis import Redis

from functions.state.codec import text
from functions.state.keys import Keys

_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local generation = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. generation, 'PX', ARGV[2])
return generation
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def default_runner_id() -> str:
    """`<hostname>-<pid>`: unique per live process on a host, readable in `GET` of the runner keys."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class Lease:
    """A held lease: the token stored in Redis is `<runner_id>|<generation>`."""

    session_id: str
    runner_id: str
    generation: int

    @property
    def token(self) -> str:
        return f"{self.runner_id}|{self.generation}"

    @classmethod
    def parse(cls, session_id: str, token: str) -> Lease:
        runner_id, _, generation = token.rpartition("|")
        return cls(session_id, runner_id, int(generation))


class LeaseStore:
    """Claim, renew, release and inspect session leases; register runner heartbeats."""

    def __init__(self, conn: Redis, keys: Keys, ttl_seconds: float) -> None:
        self._conn = conn
        self._keys = keys
        self._ttl_ms = int(ttl_seconds * 1000)
        self._claim = conn.register_script(_CLAIM)
        self._renew = conn.register_script(_RENEW)
        self._release = conn.register_script(_RELEASE)

    def claim(self, session_id: str, runner_id: str) -> Lease | None:
        """Take the session if nobody holds it; None when another lease is live."""
        keys = [self._keys.session_lease(session_id), self._keys.session_lease_generation(session_id)]
        generation = self._claim(keys=keys, args=[runner_id, self._ttl_ms])
        return Lease(session_id, runner_id, int(generation)) if generation else None

    def renew(self, leases: list[Lease]) -> list[bool]:
        """Extend each lease by the TTL; False for those no longer ours (expired, or claimed by another)."""
        if not leases:
            return []
        with self._conn.pipeline(transaction=False) as pipe:
            for lease in leases:
                self._renew(
                    keys=[self._keys.session_lease(lease.session_id)],
                    args=[lease.token, self._ttl_ms],
                    client=pipe,
                )
            return [bool(result) for result in pipe.execute()]

    def release(self, lease: Lease) -> bool:
        """Drop the lease if it is still ours; returns whether it was."""
        return bool(self._release(keys=[self._keys.session_lease(lease.session_id)], args=[lease.token]))

    def holder(self, session_id: str) -> Lease | None:
        raw = self._conn.get(self._keys.session_lease(session_id))
        return Lease.parse(session_id, text(raw)) if raw else None

    def holds(self, lease: Lease) -> bool:
        """Whether `lease` is still the live one (the fencing check before a write)."""
        current = self.holder(lease.session_id)
        return current is not None and current.token == lease.token

    def heartbeat(self, runner_id: str, sessions: list[str], max_sessions: int | None = None) -> None:
        """Register this runner as alive for one TTL, with the sessions it holds and, when given, how many
        it may hold (its MAX_SESSIONS: the metrics' free capacity is that minus the sessions held)."""
        fields: dict[str, object] = {"pid": os.getpid(), "host": socket.gethostname(), "sessions": sessions}
        if max_sessions is not None:
            fields["maxSessions"] = max_sessions
        body = json.dumps(fields)
        now_ms = int(time.time() * 1000)
        with self._conn.pipeline(transaction=False) as pipe:
            pipe.set(self._keys.runner(runner_id), body, px=self._ttl_ms)
            pipe.zadd(self._keys.runners, {runner_id: now_ms})
            pipe.zremrangebyscore(self._keys.runners, 0, now_ms - 10 * self._ttl_ms)
            pipe.execute()

    def unregister(self, runner_id: str) -> None:
        with self._conn.pipeline(transaction=False) as pipe:
            pipe.delete(self._keys.runner(runner_id))
            pipe.zrem(self._keys.runners, runner_id)
            pipe.execute()

    def live_runners(self) -> list[str]:
        """Runner ids whose heartbeat key has not expired."""
        ids = [text(raw) for raw in self._conn.zrange(self._keys.runners, 0, -1)]
        if not ids:
            return []
        alive = self._conn.mget([self._keys.runner(runner_id) for runner_id in ids])
        return [runner_id for runner_id, body in zip(ids, alive, strict=True) if body]
