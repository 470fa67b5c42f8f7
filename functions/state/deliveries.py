"""Webhook deliveries in Redis: one hash per delivery (`<p>:delivery:<id>`, the body bytes plus its state),
its attempt log (`...:attempts`), the in-flight set the sweeper reads, and the dead-letter index.

States: `pending` (queued or waiting for a retry), `delivering` (an attempt is running), `delivered`,
`failed` (dead letter), `redriven` (a dead letter replayed as a new delivery), `dropped` (its webhook was
deleted or disabled). Every record expires: active ones after the retry horizon, finished ones after the
retention settings, so Redis memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script

from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

MAX_ATTEMPT_LOG = 50
# A webhook's delivery log (every attempt of every delivery to it, tests too): the last this many, kept
# while attempts keep coming and gone ACTIVE_TTL_SECONDS after the last one.
MAX_WEBHOOK_ATTEMPTS = 100
ACTIVE_TTL_SECONDS = 14 * 24 * 3600  # longer than any sane retry schedule

# Claim deliveries for this worker: the explicit `<id>:<attempt>` entries (ARGV[5..]) and up to ARGV[1]
# popped from the ready list, each marked in flight (deadline ARGV[2]) in the same step it leaves the list,
# so a worker dying at any point leaves it either ready or in flight (where the sweeper finds it). An
# entry is skipped (stale) when its delivery is gone, settled, at another attempt, or already in flight.
# ARGV[4] == '1' clears the wake flag (KEYS[3]) first: the drain job that was waiting is now running.
# Returns the ready list's remaining length and the claimed records (HGETALL pairs).
_CLAIM = """
if ARGV[4] == '1' then redis.call('DEL', KEYS[3]) end
local entries = {}
for i = 5, #ARGV do entries[#entries + 1] = ARGV[i] end
if tonumber(ARGV[1]) > 0 then
  local popped = redis.call('LPOP', KEYS[1], ARGV[1])
  if popped then for _, entry in ipairs(popped) do entries[#entries + 1] = entry end end
end
local claimed = {}
for _, entry in ipairs(entries) do
  local id, attempt = string.match(entry, '^(.+):(%d+)$')
  if id and not redis.call('ZSCORE', KEYS[2], entry) then
    local key = ARGV[3] .. id
    local state = redis.call('HMGET', key, 'state', 'attempt')
    if (state[1] == 'pending' or state[1] == 'delivering') and state[2] == attempt then
      redis.call('HSET', key, 'state', 'delivering')
      redis.call('ZADD', KEYS[2], ARGV[2], entry)
      claimed[#claimed + 1] = redis.call('HGETALL', key)
    end
  end
end
return {redis.call('LLEN', KEYS[1]), claimed}
"""
# Hand claimed-but-unattempted entries back to the front of the ready list (pending again), unless the
# sweeper already took them.
_RELEASE = """
for i = #ARGV, 2, -1 do
  local entry = ARGV[i]
  if redis.call('ZREM', KEYS[2], entry) == 1 then
    local key = ARGV[1] .. string.match(entry, '^(.+):%d+$')
    if redis.call('EXISTS', key) == 1 then
      redis.call('HSET', key, 'state', 'pending')
      redis.call('LPUSH', KEYS[1], entry)
    end
  end
end
return 0
"""


@dataclass(frozen=True)
class Delivery:
    """One (event, webhook) delivery. `attempt` is the 0-based attempt to run next (or last run)."""

    id: str
    webhook_id: str
    session_id: str
    event_id: str
    event: str
    idempotency_key: str
    body: bytes
    max_attempts: int
    created_at: int  # epoch ms
    url: str = ""
    state: str = "pending"
    attempt: int = 0
    attempts_made: int = 0
    last_status: int | None = None
    last_error: str | None = None
    failed_at: int | None = None
    replayable: bool = True

    def to_fields(self) -> dict[str, Any]:
        values = {
            "id": self.id,
            "webhookId": self.webhook_id,
            "sessionId": self.session_id,
            "eventId": self.event_id,
            "event": self.event,
            "idempotencyKey": self.idempotency_key,
            "body": self.body,
            "maxAttempts": self.max_attempts,
            "createdAt": self.created_at,
            "url": self.url,
            "state": self.state,
            "attempt": self.attempt,
            "attemptsMade": self.attempts_made,
            "replayable": int(self.replayable),
        }
        optional = {"lastStatus": self.last_status, "lastError": self.last_error, "failedAt": self.failed_at}
        values.update({name: value for name, value in optional.items() if value is not None})
        return values

    @classmethod
    def from_fields(cls, raw: dict[Any, Any]) -> Delivery:
        values = {text(name): value for name, value in raw.items()}

        def optional_int(name: str) -> int | None:
            return int(values[name]) if name in values else None

        return cls(
            id=text(values["id"]),
            webhook_id=text(values["webhookId"]),
            session_id=text(values["sessionId"]),
            event_id=text(values["eventId"]),
            event=text(values["event"]),
            idempotency_key=text(values["idempotencyKey"]),
            body=bytes(values["body"]),
            max_attempts=int(values["maxAttempts"]),
            created_at=int(values["createdAt"]),
            url=text(values.get("url", b"")),
            state=text(values["state"]),
            attempt=int(values["attempt"]),
            attempts_made=int(values.get("attemptsMade", 0)),
            last_status=optional_int("lastStatus"),
            last_error=text(values["lastError"]) if "lastError" in values else None,
            failed_at=optional_int("failedAt"),
            replayable=bool(int(values.get("replayable", 1))),
        )


class DeliveryRepository:
    """Reads go straight to Redis; writes that must land together take the caller's pipeline."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn = conn
        self._keys = keys

    # Registered on first use: most repositories (one per publish_event) never claim.
    @cached_property
    def _claim(self) -> Script:
        return self._conn.register_script(_CLAIM)

    @cached_property
    def _release(self) -> Script:
        return self._conn.register_script(_RELEASE)

    @property
    def connection(self) -> Redis:
        return self._conn

    def pipeline(self) -> Pipeline:
        return self._conn.pipeline()

    def get(self, delivery_id: str) -> Delivery | None:
        with translate_redis_errors():
            raw = self._conn.hgetall(self._keys.delivery(delivery_id))
        return Delivery.from_fields(raw) if raw else None

    def get_many(self, delivery_ids: list[str]) -> list[Delivery | None]:
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            for delivery_id in delivery_ids:
                pipe.hgetall(self._keys.delivery(delivery_id))
            rows = pipe.execute()
        return [Delivery.from_fields(raw) if raw else None for raw in rows]

    def existing(self, delivery_ids: list[str]) -> set[str]:
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            for delivery_id in delivery_ids:
                pipe.exists(self._keys.delivery(delivery_id))
            found = pipe.execute()
        return {delivery_id for delivery_id, hit in zip(delivery_ids, found, strict=True) if hit}

    def attempts(self, delivery_id: str) -> list[dict[str, Any]]:
        with translate_redis_errors():
            rows = self._conn.lrange(self._keys.delivery_attempts(delivery_id), 0, -1)
        return [orjson.loads(row) for row in rows]

    def put(self, pipe: Pipeline, delivery: Delivery, ttl_seconds: int = ACTIVE_TTL_SECONDS) -> None:
        key = self._keys.delivery(delivery.id)
        pipe.hset(key, mapping=delivery.to_fields())  # type: ignore[arg-type]
        pipe.expire(key, ttl_seconds)

    def update(self, pipe: Pipeline, delivery_id: str, **fields: Any) -> None:
        pipe.hset(self._keys.delivery(delivery_id), mapping=fields)  # type: ignore[arg-type]

    def log_attempt(self, pipe: Pipeline, delivery_id: str, entry: dict[str, Any]) -> None:
        key = self._keys.delivery_attempts(delivery_id)
        pipe.rpush(key, orjson.dumps(entry))
        pipe.ltrim(key, -MAX_ATTEMPT_LOG, -1)
        pipe.expire(key, ACTIVE_TTL_SECONDS)

    def log_webhook_attempt(
        self, pipe: Pipeline, webhook_id: str, delivery_id: str, event: str, entry: dict[str, Any]
    ) -> None:
        """Add an attempt (`attempt`, `at`, `statusCode`, `latencyMs`, `error`) to the webhook's delivery
        log, newest first, trimmed to MAX_WEBHOOK_ATTEMPTS."""
        key = self._keys.webhook_attempts(webhook_id)
        pipe.lpush(key, orjson.dumps({**entry, "deliveryId": delivery_id, "event": event}))
        pipe.ltrim(key, 0, MAX_WEBHOOK_ATTEMPTS - 1)
        pipe.expire(key, ACTIVE_TTL_SECONDS)

    def webhook_attempts(self, webhook_id: str, limit: int) -> list[dict[str, Any]]:
        """The webhook's last `limit` attempts, newest first."""
        with translate_redis_errors():
            rows = self._conn.lrange(self._keys.webhook_attempts(webhook_id), 0, limit - 1)
        return [orjson.loads(row) for row in rows]

    def forget_webhook_attempts(self, webhook_id: str) -> None:
        with translate_redis_errors():
            self._conn.delete(self._keys.webhook_attempts(webhook_id))

    def expire(self, pipe: Pipeline, delivery_id: str, ttl_seconds: int) -> None:
        pipe.expire(self._keys.delivery(delivery_id), ttl_seconds)
        pipe.expire(self._keys.delivery_attempts(delivery_id), ttl_seconds)

    # In flight: `<id>:<attempt>` (the ready list's entries too) scored by the deadline after which its
    # worker is presumed dead.
    def claim_inflight(self, delivery_id: str, attempt: int) -> bool:
        """Remove the in-flight mark; True for exactly one caller (the job finishing, or one sweeper)."""
        with translate_redis_errors():
            return bool(self._conn.zrem(self._keys.deliveries_inflight, f"{delivery_id}:{attempt}"))

    def claim_inflight_many(self, entries: list[str]) -> list[bool]:
        """`claim_inflight` for several `<id>:<attempt>` entries in one round trip."""
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.zrem(self._keys.deliveries_inflight, entry)
            return [bool(removed) for removed in pipe.execute()]

    def claim(
        self,
        ready_key: str,
        deadline_ms: int,
        *,
        take: int = 0,
        entries: tuple[str, ...] = (),
        wake_key: str | None = None,
    ) -> tuple[list[Delivery], int]:
        """Mark in flight (until `deadline_ms`) the given `<id>:<attempt>` entries and up to `take` more
        popped from `ready_key`, atomically (see `_CLAIM`); with `wake_key`, clear that flag first.
        Returns the claimed deliveries (state `delivering`) and how many entries are still ready."""
        keys = [ready_key, self._keys.deliveries_inflight, wake_key or ready_key]
        args = [take, deadline_ms, self._keys.delivery(""), "1" if wake_key else "0", *entries]
        with translate_redis_errors():
            remaining, rows = self._claim(keys=keys, args=args)
        return [Delivery.from_fields(dict(zip(row[::2], row[1::2], strict=True))) for row in rows], remaining

    def release(self, ready_key: str, entries: list[str]) -> None:
        """Give claimed entries that were never attempted back to the front of the ready list."""
        keys = [ready_key, self._keys.deliveries_inflight]
        with translate_redis_errors():
            self._release(keys=keys, args=[self._keys.delivery(""), *entries])

    def overdue(self, now_ms: int, limit: int = 100) -> list[tuple[str, int]]:
        with translate_redis_errors():
            members = self._conn.zrangebyscore(
                self._keys.deliveries_inflight, "-inf", now_ms, start=0, num=limit
            )
        pairs = (text(member).rpartition(":") for member in members)
        return [(delivery_id, int(attempt)) for delivery_id, _, attempt in pairs]

    # Dead letters
    def add_failure(self, pipe: Pipeline, delivery_id: str, at_ms: int) -> None:
        pipe.zadd(self._keys.delivery_failures, {delivery_id: at_ms})

    def remove_failure(self, pipe: Pipeline, delivery_id: str) -> None:
        pipe.zrem(self._keys.delivery_failures, delivery_id)

    def failures(self) -> list[Delivery]:
        """Every dead letter, newest first; index entries whose record expired are pruned on the way."""
        with translate_redis_errors():
            ids = [text(item) for item in self._conn.zrevrange(self._keys.delivery_failures, 0, -1)]
        rows = self.get_many(ids) if ids else []
        gone = [delivery_id for delivery_id, row in zip(ids, rows, strict=True) if row is None]
        if gone:
            with translate_redis_errors():
                self._conn.zrem(self._keys.delivery_failures, *gone)
        return [row for row in rows if row is not None and row.state == "failed"]
