"""Message traffic for the statistics routes (`GET /api/stats/*`): counters by UTC hour and day, per session,
by type and by chat, written with the message in the session process's counting pipeline.

| key                                          | type   | holds                                             |
|----------------------------------------------|--------|---------------------------------------------------|
| `<p>:message-activity:hour:<YYYY-MM-DDTHH>`  | hash   | that UTC hour's counts (fields below; 31 d TTL)   |
| `<p>:message-activity:day:<YYYY-MM-DD>`      | hash   | the same for that UTC day (31 d TTL)              |
| `<p>:message-activity:chats:<YYYY-MM-DD>`    | zset   | `<sid> <chatId>` -> messages that day (top 1,000) |
| `<p>:session:<sid>:message-totals`           | hash   | the session's `sent`, `received`, `failed` ever   |
| `<p>:session:<sid>:top-chats`                | zset   | chat -> messages (its top 200 chats)              |
| `<p>:session:<sid>:chat-last`                | zset   | chat -> last message time (ms; 1,000 most recent) |

Hour and day hashes hold `sent`, `received`, `failed`, `type:<type>` and `<sid>:<direction>`. Memory stays
bounded: the time buckets expire after 31 days (the longest period read is 30), the chat sets are trimmed
to their top entries on each write, and the per-session keys carry the session id as their own segment, so
the purge job removes them with the session. Trimming makes the top-chat lists approximate at the margin
(a chat with few messages may be dropped in favour of another), never for the busiest chats they show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from redis import Redis
from redis.client import Pipeline

from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

Direction = Literal["sent", "received", "failed"]
DIRECTIONS: tuple[Direction, ...] = ("sent", "received", "failed")
BUCKET_TTL_SECONDS = 31 * 86_400 + 3_600
DAY_CHATS_KEPT = 1_000
SESSION_CHATS_KEPT = 200
SESSION_RECENT_KEPT = 1_000


def hour_label(moment: datetime) -> str:
    """The UTC hour of `moment` as `YYYY-MM-DDTHH` (its bucket's name)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def day_label(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Activity:
    """One message to count. `chat_id` and `kind` (the record's `type`) may be unknown (None)."""

    direction: Direction
    session_id: str
    when: datetime
    chat_id: str | None = None
    kind: str | None = None


def record(pipe: Pipeline, keys: Keys, activity: Activity) -> None:
    """Queue the counts of one message on the caller's pipeline (sent when the caller executes it)."""
    if activity.direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {activity.direction!r}")
    sid, direction = activity.session_id, activity.direction
    fields = [direction, f"{sid}:{direction}"]
    if activity.kind and direction != "failed":  # a failure is already counted under its type when sent
        fields.append(f"type:{activity.kind}")
    for bucket in (
        keys.message_activity_hour(hour_label(activity.when)),
        keys.message_activity_day(day_label(activity.when)),
    ):
        for name in fields:
            pipe.hincrby(bucket, name, 1)
        pipe.expire(bucket, BUCKET_TTL_SECONDS)
    pipe.hincrby(keys.session_message_totals(sid), direction, 1)
    if activity.chat_id and direction != "failed":
        day_chats = keys.message_activity_chats(day_label(activity.when))
        pipe.zincrby(day_chats, 1, f"{sid} {activity.chat_id}")
        pipe.zremrangebyrank(day_chats, 0, -(DAY_CHATS_KEPT + 1))
        pipe.expire(day_chats, BUCKET_TTL_SECONDS)
        top = keys.session_top_chats(sid)
        pipe.zincrby(top, 1, activity.chat_id)
        pipe.zremrangebyrank(top, 0, -(SESSION_CHATS_KEPT + 1))
        recent = keys.session_chat_last(sid)
        pipe.zadd(recent, {activity.chat_id: int(activity.when.timestamp() * 1000)})
        pipe.zremrangebyrank(recent, 0, -(SESSION_RECENT_KEPT + 1))


def _counts(raw: dict[bytes, bytes]) -> dict[str, int]:
    return {text(name): int(value) for name, value in raw.items()}


def hours(conn: Redis, keys: Keys, until: datetime, count: int) -> list[tuple[datetime, dict[str, int]]]:
    """The `count` UTC hours up to and including the one of `until`, oldest first, with their counts."""
    start = until.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=count - 1)
    moments = [start + timedelta(hours=n) for n in range(count)]
    return _read(conn, [keys.message_activity_hour(hour_label(m)) for m in moments], moments)


def days(conn: Redis, keys: Keys, until: datetime, count: int) -> list[tuple[datetime, dict[str, int]]]:
    """The `count` UTC days up to and including the one of `until`, oldest first, with their counts."""
    start = until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    moments = [start - timedelta(days=count - 1 - n) for n in range(count)]
    return _read(conn, [keys.message_activity_day(day_label(m)) for m in moments], moments)


def _read(conn: Redis, names: list[str], moments: list[datetime]) -> list[tuple[datetime, dict[str, int]]]:
    with translate_redis_errors(), conn.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hgetall(name)
        rows = pipe.execute()
    return [(moment, _counts(raw)) for moment, raw in zip(moments, rows, strict=True)]


def top_day_chats(conn: Redis, keys: Keys, day_moments: list[datetime], per_day: int) -> dict[str, int]:
    """`<sid> <chatId>` -> messages, summed over the busiest `per_day` of each of these days."""
    with translate_redis_errors(), conn.pipeline(transaction=False) as pipe:
        for moment in day_moments:
            pipe.zrevrange(keys.message_activity_chats(day_label(moment)), 0, per_day - 1, withscores=True)
        rows = pipe.execute()
    merged: dict[str, int] = {}
    for row in rows:
        for member, score in row:
            merged[text(member)] = merged.get(text(member), 0) + int(score)
    return merged


@dataclass(frozen=True)
class SessionActivity:
    totals: dict[str, int]
    top_chats: list[tuple[str, int, int | None]]  # chat id, messages, last message (epoch ms) if known


def session_activity(conn: Redis, keys: Keys, session_id: str, top: int) -> SessionActivity:
    """A session's totals ever and its `top` busiest chats with their last message time (two round trips)."""
    with translate_redis_errors():
        with conn.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.session_message_totals(session_id))
            pipe.zrevrange(keys.session_top_chats(session_id), 0, top - 1, withscores=True)
            totals, chats = pipe.execute()
        ids = [text(member) for member, _ in chats]
        last = conn.zmscore(keys.session_chat_last(session_id), ids) if ids else []
    listed = [
        (chat_id, int(score), int(seen) if seen is not None else None)
        for chat_id, (_, score), seen in zip(ids, chats, last, strict=True)
    ]
    return SessionActivity(_counts(totals), listed)
