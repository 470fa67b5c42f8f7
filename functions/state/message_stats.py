"""Messages sent and received per UTC day: one small hash per day (`<p>:message-stats:<YYYY-MM-DD>`, fields
`sent` and `received`), counted with HINCRBY and expiring after three days, so the dashboard's "today"
figures cost one HMGET and memory stays bounded whatever the traffic.

The messaging code calls `record_message` when a message is sent or received; passing its pipeline adds
the count to the same round trip (and, in a MULTI pipeline, to the same transaction) as the record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from redis import Redis
from redis.client import Pipeline

from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

Direction = Literal["sent", "received"]
DIRECTIONS: tuple[Direction, ...] = ("sent", "received")
# Long enough to read yesterday's and today's figures in any time zone; short enough to stay tiny.
STATS_TTL_SECONDS = 3 * 24 * 3600


def day_of(moment: datetime | date) -> str:
    """The UTC day of `moment` as `YYYY-MM-DD` (a naive datetime is taken as UTC; a date is itself)."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(UTC).date().isoformat()
    return moment.isoformat()


def record_message(
    conn_or_pipeline: Redis | Pipeline, keys: Keys, direction: Direction, when: datetime
) -> None:
    """Count one message `direction` ("sent" or "received") on the UTC day of `when`.

    With a pipeline, the commands are only queued: the caller executes it. With a connection, they are
    sent at once in one round trip. Raises ValueError for another direction, StateUnavailable when Redis
    cannot be reached."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    key = keys.message_stats(day_of(when))
    if isinstance(conn_or_pipeline, Pipeline):
        conn_or_pipeline.hincrby(key, direction, 1)
        conn_or_pipeline.expire(key, STATS_TTL_SECONDS)
        return
    with translate_redis_errors(), conn_or_pipeline.pipeline(transaction=False) as pipe:
        pipe.hincrby(key, direction, 1)
        pipe.expire(key, STATS_TTL_SECONDS)
        pipe.execute()


def daily_counts(conn: Redis, keys: Keys, day: date | datetime | str) -> dict[str, int]:
    """`{"sent": n, "received": n}` for a UTC day (a date, an aware datetime, or `YYYY-MM-DD`); zeros for a
    day with no traffic or one older than the three days kept."""
    name = day if isinstance(day, str) else day_of(day)
    with translate_redis_errors():
        values = conn.hmget(keys.message_stats(name), list(DIRECTIONS))
    return {direction: int(raw or 0) for direction, raw in zip(DIRECTIONS, values, strict=True)}
