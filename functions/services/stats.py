"""Statistics (`GET /api/stats/*`, upstream's StatsService shapes) from counters we already keep.

- overview: sessions by status (the session records), messages sent/received/failed ever (the Prometheus
  counters, `functions.state.metrics`) and today's (`functions.state.message_stats`);
- messages: a time series (24 hourly or 7/30 daily buckets, every bucket listed, zeros included), by type,
  by session and the top chats, from `functions.state.message_activity`;
- one session: its totals ever, today's, its top chats and the last 24 hours by UTC hour of day.

Everything is read in a few pipelined round trips; nothing scans messages. Hours and days are UTC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from redis import Redis

from functions.core.clock import iso, utcnow
from functions.core.enums import SessionStatus
from functions.services.sessions import SessionNotFound
from functions.state import message_activity as activity
from functions.state.keys import Keys
from functions.state.message_stats import daily_counts, day_of
from functions.state.metrics import MESSAGES_FAILED, MESSAGES_RECEIVED, MESSAGES_SENT, read_metrics
from functions.state.sessions import SessionRepository

Period = Literal["24h", "7d", "30d"]
PERIODS: tuple[Period, ...] = ("24h", "7d", "30d")
TOP_CHATS = 10
# Each day's busiest chats merged into the period's top list: far more than TOP_CHATS, so a chat busy
# over the period but never in one day's top ten still counts.
_PER_DAY = 100


def _direction_counts(counts: dict[str, int], prefix: str = "") -> dict[str, int]:
    return {name: counts.get(f"{prefix}{name}", 0) for name in ("sent", "received")}


class StatsService:
    def __init__(
        self, conn: Redis, keys: Keys, sessions: SessionRepository, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._conn, self._keys, self._sessions, self._clock = conn, keys, sessions, clock

    def overview(self) -> dict[str, Any]:
        """`{sessions: {active, total, byStatus}, messages: {sent, received, failed, today: {sent,
        received}}}`; `active` counts sessions that are `ready`."""
        sessions = self._sessions.page(limit=10**9, offset=0)
        by_status = Counter(session.status.value for session in sessions)
        totals = {
            values.spec.name: int(sum(values.counters.values()))
            for values in read_metrics(self._conn, self._keys)
            if values.spec.kind == "counter"
        }
        today = daily_counts(self._conn, self._keys, day_of(self._clock()))
        return {
            "sessions": {
                "active": by_status[SessionStatus.READY.value],
                "total": len(sessions),
                "byStatus": dict(by_status),
            },
            "messages": {
                "sent": totals.get(MESSAGES_SENT, 0),
                "received": totals.get(MESSAGES_RECEIVED, 0),
                "failed": totals.get(MESSAGES_FAILED, 0),
                "today": today,
            },
        }

    def messages(self, period: Period) -> dict[str, Any]:
        """`{timeSeries: [{timestamp, sent, received}], byType, bySession: [{sessionId, name, sent,
        received}], topChats: [{chatId, chatName, messageCount}]}` over the period. Time-series labels
        are upstream's: `YYYY-MM-DD HH:00:00` by hour (24h), `YYYY-MM-DD` by day (7d, 30d). Top chats are
        counted by whole UTC days (for 24h: today and yesterday), the finest grain they are kept at."""
        now = self._clock()
        if period == "24h":
            buckets = activity.hours(self._conn, self._keys, now, 24)
            label = "%Y-%m-%d %H:00:00"
        else:
            buckets = activity.days(self._conn, self._keys, now, 7 if period == "7d" else 30)
            label = "%Y-%m-%d"
        series = [{"timestamp": moment.strftime(label), **_direction_counts(c)} for moment, c in buckets]
        summed: Counter[str] = Counter()
        for _, counts in buckets:
            summed.update(counts)
        by_type = {name[5:]: n for name, n in summed.items() if name.startswith("type:") and n}
        day_moments = sorted({moment.replace(hour=0) for moment, _ in buckets})
        return {
            "timeSeries": series,
            "byType": by_type,
            "bySession": self._by_session(summed),
            "topChats": self._top_chats(day_moments),
        }

    def _by_session(self, summed: Counter[str]) -> list[dict[str, Any]]:
        ids = sorted(
            {name.rsplit(":", 1)[0] for name in summed if ":" in name and not name.startswith("type:")}
        )
        names = {session.id: session.name for session in self._sessions.get_many(ids)}
        rows = [
            {"sessionId": sid, "name": names.get(sid, "Unknown"), **_direction_counts(summed, f"{sid}:")}
            for sid in ids
        ]
        return [row for row in rows if row["sent"] or row["received"]]

    def _top_chats(self, day_moments: list[datetime]) -> list[dict[str, Any]]:
        merged: Counter[str] = Counter()
        for member, count in activity.top_day_chats(self._conn, self._keys, day_moments, _PER_DAY).items():
            merged[member.split(" ", 1)[-1]] += count  # upstream groups by chat id across sessions
        return [
            {"chatId": chat_id, "chatName": None, "messageCount": count}
            for chat_id, count in merged.most_common(TOP_CHATS)
        ]

    def session(self, session_id: str) -> dict[str, Any]:
        """`{session: {id, name, status}, messages: {sent, received, today, failed}, topChats: [{chatId,
        chatName, count, lastActive}], hourlyActivity: [{hour, sent, received}] x 24}` (hours 0-23 UTC,
        the last 24 hours). SessionNotFound."""
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(details={"sessionId": session_id})
        now = self._clock()
        hours = activity.hours(self._conn, self._keys, now, 24)
        today = activity.day_label(now)
        prefix = f"{session_id}:"
        today_count = sum(
            sum(_direction_counts(counts, prefix).values())
            for moment, counts in hours
            if activity.day_label(moment) == today
        )
        by_hour = {moment.hour: _direction_counts(counts, prefix) for moment, counts in hours}
        mine = activity.session_activity(self._conn, self._keys, session_id, TOP_CHATS)
        return {
            "session": {"id": session.id, "name": session.name, "status": session.status.value},
            "messages": {
                "sent": mine.totals.get("sent", 0),
                "received": mine.totals.get("received", 0),
                "today": today_count,
                "failed": mine.totals.get("failed", 0),
            },
            "topChats": [
                {
                    "chatId": chat_id,
                    "chatName": None,
                    "count": count,
                    "lastActive": iso(datetime.fromtimestamp(last / 1000, tz=UTC)) if last else None,
                }
                for chat_id, count, last in mine.top_chats
            ],
            "hourlyActivity": [{"hour": hour, **by_hour[hour]} for hour in range(24)],
        }
