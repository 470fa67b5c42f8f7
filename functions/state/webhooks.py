"""Webhook configurations in Redis (`<p>:webhook:<id>`, indexed per session)."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from redis import Redis

from functions.core.clock import iso, parse_iso
from functions.core.models import Webhook
from functions.state.codec import decode_fields, encode_fields, text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

_DATETIME_FIELDS = {"created_at", "updated_at", "last_triggered_at"}


def _to_fields(hook: Webhook) -> dict[str, Any]:
    return {
        spec.name: iso(getattr(hook, spec.name))
        if spec.name in _DATETIME_FIELDS
        else getattr(hook, spec.name)
        for spec in dataclass_fields(hook)
    }


def _from_fields(data: dict[str, Any]) -> Webhook:
    known = {spec.name for spec in dataclass_fields(Webhook)}
    values = {name: value for name, value in data.items() if name in known}
    for name in _DATETIME_FIELDS & values.keys():
        values[name] = parse_iso(values[name])
    return Webhook(**values)


class WebhookRepository:
    """CRUD for webhook configs. Secrets and headers arrive already encrypted (the service does it)."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn = conn
        self._keys = keys

    def save(self, hook: Webhook) -> None:
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.hset(self._keys.webhook(hook.id), mapping=encode_fields(_to_fields(hook)))
            pipe.zadd(self._keys.session_webhooks(hook.session_id), {hook.id: hook.created_at.timestamp()})
            pipe.execute()

    def get(self, webhook_id: str) -> Webhook | None:
        with translate_redis_errors():
            raw = self._conn.hgetall(self._keys.webhook(webhook_id))
        return _from_fields(decode_fields(raw)) if raw else None

    def list_for_session(self, session_id: str) -> list[Webhook]:
        with translate_redis_errors():
            ids = self._conn.zrange(self._keys.session_webhooks(session_id), 0, -1)
            with self._conn.pipeline(transaction=False) as pipe:
                for webhook_id in ids:
                    pipe.hgetall(self._keys.webhook(text(webhook_id)))
                rows = pipe.execute()
        return [_from_fields(decode_fields(raw)) for raw in rows if raw]

    def count_for_session(self, session_id: str) -> int:
        with translate_redis_errors():
            return int(self._conn.zcard(self._keys.session_webhooks(session_id)))

    def delete(self, hook: Webhook) -> None:
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.delete(self._keys.webhook(hook.id))
            pipe.zrem(self._keys.session_webhooks(hook.session_id), hook.id)
            pipe.execute()

    def delete_for_session(self, session_id: str) -> int:
        """Remove every webhook of a session (session delete cascades, as upstream's FK does)."""
        hooks = self.list_for_session(session_id)
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            for hook in hooks:
                pipe.delete(self._keys.webhook(hook.id))
            pipe.delete(self._keys.session_webhooks(session_id))
            pipe.execute()
        return len(hooks)
