"""Open event streams, counted across every API process: a global cap and a cap per API key.

An open stream holds a lease: its token in `<p>:open-streams` and in `<p>:open-streams:key:<keyId>`, scored
by when the lease ends. The stream renews it while it runs and removes it when it ends; a process that dies
with streams open leaves leases that lapse on their own within `LEASE_SECONDS`, so a crash never eats the
capacity for good. Taking a slot is one script: expired leases are pruned, both counts checked, both sets
written, so two processes racing for the last slot cannot both get it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis

from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

# Longer than a stream waits between two renewals (one XREAD block, at most a few seconds).
LEASE_SECONDS = 30.0
RENEW_EVERY_SECONDS = 10.0

# KEYS: global set, key set. ARGV: token, now, lease end, global cap, per-key cap.
# Returns 0 when taken, 1 when the global cap is reached, 2 when the key's cap is.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[2], math.ceil((tonumber(ARGV[3]) - tonumber(ARGV[2])) * 1000))
return 0
"""


@dataclass(frozen=True)
class StreamCaps:
    total: int
    per_key: int


class OpenStreams:
    """Slots for event streams. `take` answers None when granted, else which cap is full."""

    GLOBAL, PER_KEY = "global", "perKey"

    def __init__(self, conn: Redis, keys: Keys, caps: StreamCaps) -> None:
        self._conn = conn
        self._keys = keys
        self._caps = caps
        self._take = conn.register_script(_TAKE)

    @property
    def caps(self) -> StreamCaps:
        return self._caps

    def take(self, key_id: str, token: str) -> str | None:
        """Take a slot for stream `token` of API key `key_id`; None when granted, else the full cap's name."""
        now = time.time()
        keys = [self._keys.open_streams, self._keys.key_open_streams(key_id)]
        args: list[str | float] = [token, now, now + LEASE_SECONDS, self._caps.total, self._caps.per_key]
        with translate_redis_errors():
            refused = int(self._take(keys=keys, args=args))
        return {0: None, 1: self.GLOBAL, 2: self.PER_KEY}[refused]

    def renew(self, key_id: str, token: str) -> None:
        """Extend the stream's lease (only if it still holds one: a lapsed lease is not brought back)."""
        until = time.time() + LEASE_SECONDS
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            pipe.zadd(self._keys.open_streams, {token: until}, xx=True)
            pipe.zadd(self._keys.key_open_streams(key_id), {token: until}, xx=True)
            pipe.pexpire(self._keys.key_open_streams(key_id), int(LEASE_SECONDS * 1000))
            pipe.execute()

    def release(self, key_id: str, token: str) -> None:
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            pipe.zrem(self._keys.open_streams, token)
            pipe.zrem(self._keys.key_open_streams(key_id), token)
            pipe.execute()

    def count(self) -> int:
        """Streams open now, across every API process."""
        with translate_redis_errors():
            return int(self._conn.zcount(self._keys.open_streams, time.time(), "+inf"))
