"""Webhook configurations in Redis (`<p>:webhook:<id>`, indexed per session).

A record that cannot be read back (`CorruptRecord`: written by an older version or by hand) is skipped by
the lists, with a warning, and raised by `get`; `purge` removes one without reading it.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from redis import Redis
from redis.client import Pipeline

from functions.core.clock import iso, parse_iso
from functions.core.models import Webhook
from functions.state.codec import decode_fields, encode_fields, load_record, readable, text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

_DATETIME_FIELDS = {"created_at", "updated_at", "last_triggered_at"}
_SET_IF_EXISTS = """
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV))
return 1
"""


def _to_fields(hook: Webhook) -> dict[str, Any]:
    return {
        spec.name: iso(getattr(hook, spec.name))
        if spec.name in _DATETIME_FIELDS
        else getattr(hook, spec.name)
        for spec in dataclass_fields(hook)
    }


def _field_args(values: dict[str, Any]) -> list[Any]:
    """Some fields as flat HSET arguments, datetimes rendered as `save` does."""
    rendered = {name: iso(value) if name in _DATETIME_FIELDS else value for name, value in values.items()}
    return [item for pair in encode_fields(rendered).items() for item in pair]


def _from_fields(data: dict[str, Any]) -> Webhook:
    known = {spec.name for spec in dataclass_fields(Webhook)}
    values = {name: value for name, value in data.items() if name in known}
    for name in _DATETIME_FIELDS & values.keys():
        values[name] = parse_iso(values[name])
    return Webhook(**values)


def _load(raw: dict[Any, Any]) -> Webhook:
    return _from_fields(decode_fields(raw))


class WebhookRepository:
    """CRUD for webhook configs. Secrets and headers arrive already encrypted (the service does it)."""

    def __init__(self, conn: Redis, keys: Keys) -> None:
        self._conn = conn
        self._keys = keys
        self._set_if_exists = conn.register_script(_SET_IF_EXISTS)

    def save(self, hook: Webhook) -> None:
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.hset(self._keys.webhook(hook.id), mapping=encode_fields(_to_fields(hook)))
            pipe.zadd(self._keys.session_webhooks(hook.session_id), {hook.id: hook.created_at.timestamp()})
            pipe.zadd(self._keys.webhooks, {hook.id: hook.created_at.timestamp()})
            pipe.execute()

    def list_all(self, only: list[str] | None = None) -> list[Webhook]:
        """Every webhook, oldest first; only those of the sessions in `only` when given."""
        with translate_redis_errors():
            ids = [text(webhook_id) for webhook_id in self._conn.zrange(self._keys.webhooks, 0, -1)]
        hooks = self._read(ids)
        return [hook for hook in hooks if only is None or hook.session_id in only]

    def _read(self, ids: list[str]) -> list[Webhook]:
        """The readable records of these webhooks, in order (one round trip)."""
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            for webhook_id in ids:
                pipe.hgetall(self._keys.webhook(webhook_id))
            rows = pipe.execute()
        return readable(_load, ((i, raw) for i, raw in zip(ids, rows, strict=True) if raw), "webhook")

    def set_if_exists(self, webhook_id: str, **values: Any) -> bool:
        """Set some fields of a stored webhook, unless it was deleted meanwhile (never recreates a
        partial record). Datetimes are rendered like `save` does. Returns whether it existed."""
        args = _field_args(values)
        with translate_redis_errors():
            return bool(self._set_if_exists(keys=[self._keys.webhook(webhook_id)], args=args))

    def set_if_exists_on(self, pipe: Pipeline, webhook_id: str, **values: Any) -> None:
        """`set_if_exists`, queued on the caller's pipeline (sent when the caller executes it)."""
        # EVAL, not the registered script: in a pipeline that would cost a SCRIPT EXISTS round trip.
        pipe.eval(_SET_IF_EXISTS, 1, self._keys.webhook(webhook_id), *_field_args(values))

    def get(self, webhook_id: str) -> Webhook | None:
        with translate_redis_errors():
            raw = self._conn.hgetall(self._keys.webhook(webhook_id))
        return load_record(_load, raw, "webhook", webhook_id) if raw else None

    def get_many(self, webhook_ids: list[str]) -> dict[str, Webhook]:
        """The readable webhooks with these ids that exist, by id (one round trip)."""
        return {hook.id: hook for hook in self._read(webhook_ids)}

    def list_for_session(self, session_id: str) -> list[Webhook]:
        return self._read(self._session_ids(session_id))

    def _session_ids(self, session_id: str) -> list[str]:
        with translate_redis_errors():
            return [text(i) for i in self._conn.zrange(self._keys.session_webhooks(session_id), 0, -1)]

    def belongs_to(self, webhook_id: str, session_id: str) -> bool:
        """Whether the session's index lists this webhook (true even when its record is unreadable)."""
        with translate_redis_errors():
            return self._conn.zscore(self._keys.session_webhooks(session_id), webhook_id) is not None

    def count_for_session(self, session_id: str) -> int:
        with translate_redis_errors():
            return int(self._conn.zcard(self._keys.session_webhooks(session_id)))

    def delete(self, hook: Webhook) -> None:
        self.purge(hook.session_id, hook.id)

    def purge(self, session_id: str, webhook_id: str) -> None:
        """Remove a webhook by id, without reading its record (so an unreadable one can go too)."""
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            pipe.delete(self._keys.webhook(webhook_id))
            pipe.zrem(self._keys.session_webhooks(session_id), webhook_id)
            pipe.zrem(self._keys.webhooks, webhook_id)
            pipe.execute()

    def delete_for_session(self, session_id: str) -> int:
        """Remove every webhook of a session, readable or not (session delete cascades, as upstream's FK
        does)."""
        ids = self._session_ids(session_id)
        with translate_redis_errors(), self._conn.pipeline() as pipe:
            for webhook_id in ids:
                pipe.delete(self._keys.webhook(webhook_id))
                pipe.zrem(self._keys.webhooks, webhook_id)
            pipe.delete(self._keys.session_webhooks(session_id))
            pipe.execute()
        return len(ids)
