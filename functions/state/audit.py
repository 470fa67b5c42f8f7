"""The audit log: a Redis Stream capped by entry count and by age (`AUDIT_RETENTION_DAYS`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
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

    def query(self, *, limit: int = 50, offset: int = 0, **filters: Any) -> tuple[list[AuditEntry], int]:
        """Newest-first entries matching every given field filter, and the total that matched."""
        with translate_redis_errors():
            rows: list[Any] = self._conn.xrevrange(self._keys.audit, count=self._max_entries) or []
        matched: list[AuditEntry] = []
        for stream_id, fields in rows:
            data = json.loads(fields[b"entry"])
            if all(data.get(name) == value for name, value in filters.items() if value is not None):
                data["id"] = text(stream_id)
                data["created_at"] = parse_iso(data.get("created_at"))
                matched.append(AuditEntry(**data))
        return matched[offset : offset + limit], len(matched)
