"""The audit log: a Redis Stream capped by entry count and by age (`AUDIT_RETENTION_DAYS`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from typing import Any

from redis import Redis

from functions.core.clock import iso, parse_iso, utcnow
from functions.core.models import AuditEntry
from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys


class AuditLog:
    """Append-only audit entries, newest first on read. Never the only copy of anything important."""

    def __init__(self, conn: Redis, keys: Keys, *, max_entries: int, retention_days: int) -> None:
        self._conn = conn
        self._keys = keys
        self._max_entries = max_entries
        self._retention = timedelta(days=retention_days)

    def record(self, entry: AuditEntry) -> str:
        """Append an entry; trims by age and count in the same round trip. Returns the stream id."""
        now = utcnow()
        body = {name: value for name, value in asdict(entry).items() if name not in {"id", "created_at"}}
        body["created_at"] = iso(now)
        oldest_ms = int((now - self._retention).timestamp() * 1000)
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            pipe.xadd(
                self._keys.audit,
                {"entry": json.dumps(body, default=str)},
                maxlen=self._max_entries,
                approximate=True,
            )
            pipe.xtrim(self._keys.audit, minid=f"{oldest_ms}-0", approximate=True)
            stream_id, _ = pipe.execute()
        return text(stream_id)

    def query(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        before: str | None = None,
        **filters: Any,
    ) -> tuple[list[AuditEntry], int]:
        """Newest-first entries matching every non-None field filter (stored names: `action`, `severity`,
        `session_id`, `api_key_id`...), recorded within [since, until] and older than the entry id
        `before` (a cursor), skipping `offset`; and how many matched in all. Times are Redis' clock (the
        stream id). Scans the range in batches, decoding only entries whose bytes contain every filter."""
        wanted = {name: value for name, value in filters.items() if value is not None}
        high, low = _upper_bound(until, before), f"{_ms(since)}-0" if since else "-"
        if high is None:
            return [], 0
        if not wanted and high == "+" and low == "-":
            return self._newest(limit, offset)
        # `record` writes with json.dumps' default separators, so a matching entry contains these bytes.
        needles = [f'"{name}": {json.dumps(value)}'.encode() for name, value in wanted.items()]
        page: list[AuditEntry] = []
        total = 0
        while True:
            with translate_redis_errors():
                rows: list[Any] = self._conn.xrevrange(self._keys.audit, high, low, count=_BATCH) or []
            for stream_id, fields in rows:
                raw = fields[b"entry"]
                if not all(needle in raw for needle in needles):
                    continue
                data = json.loads(raw)
                if any(data.get(name) != value for name, value in wanted.items()):
                    continue
                if offset <= total < offset + limit:
                    page.append(_entry(stream_id, data))
                total += 1
            high = _below(text(rows[-1][0])) if len(rows) == _BATCH else None
            if high is None:
                return page, total

    def _newest(self, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            pipe.xlen(self._keys.audit)
            pipe.xrevrange(self._keys.audit, count=offset + limit)
            total, rows = pipe.execute()
        return [_entry(stream_id, json.loads(fields[b"entry"])) for stream_id, fields in rows[offset:]], total


_BATCH = 1000
_MAX_SEQUENCE = 2**64 - 1
_FIELDS = frozenset(field.name for field in dataclass_fields(AuditEntry))


def _ms(moment: datetime) -> int:
    return max(0, int(moment.timestamp() * 1000))  # stream ids start at the epoch


def _below(stream_id: str) -> str | None:
    """The greatest stream id below `stream_id` (None below 0-0); spelled out, so any Redis takes it."""
    ms_text, _, sequence_text = stream_id.partition("-")
    ms, sequence = int(ms_text), int(sequence_text or 0)
    if sequence > 0:
        return f"{ms}-{sequence - 1}"
    return f"{ms - 1}-{_MAX_SEQUENCE}" if ms > 0 else None


def _upper_bound(until: datetime | None, before: str | None) -> str | None:
    """The XREVRANGE end: the earlier of `until` (inclusive) and the entry id `before` (exclusive); None
    when nothing can be that old."""
    if before is None:
        return f"{_ms(until)}-{_MAX_SEQUENCE}" if until else "+"
    below = _below(before)
    if until is not None and below is not None:
        ms, _, sequence = below.partition("-")
        if (int(ms), int(sequence)) > (_ms(until), _MAX_SEQUENCE):
            return f"{_ms(until)}-{_MAX_SEQUENCE}"
    return below


def _entry(stream_id: Any, data: dict[str, Any]) -> AuditEntry:
    values = {name: value for name, value in data.items() if name in _FIELDS}
    values["id"] = text(stream_id)
    values["created_at"] = parse_iso(data.get("created_at"))
    return AuditEntry(**values)
