"""Redis connections from settings; translating connection failures into `StateUnavailable`."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import hiredis
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from functions.config import Settings
from functions.core.errors import StateUnavailable


def redis_from_settings(settings: Settings) -> Redis:
    """A pooled client. Short timeouts: a dead Redis must fail a request fast, not hang a worker."""
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=3,
        socket_timeout=5,
        health_check_interval=30,
        retry_on_timeout=True,
    )


@contextmanager
def translate_redis_errors() -> Iterator[None]:
    """Turn Redis transport failures into the domain's 503."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise StateUnavailable(details={"reason": str(exc)}) from exc


_SHARED_ATTRIBUTE = "_openwa_thread_connections"


class ThreadConnections:
    """A dedicated connection per thread, to the server of `client`, for the hottest commands (the session
    list's read, a send's accept).

    A command through the client borrows a pooled connection: a lock shared by the process's threads, a
    poll of the socket, and redis-py's per-use bookkeeping. That costs more CPU than the round trip itself
    (~50 us a command, measured), and a gthread API worker pays it on every request. Here each thread keeps
    its own connection (same address, timeouts, credentials); one that fails is dropped and the command
    retried once on a new one, as the client does with `retry_on_timeout`. A retried write may therefore run
    twice, as through the client: a send accepted twice is queued twice under one message id, and the
    second run of its job finds the message's send count above one and has the engine look for it first.
    """

    def __init__(self, client: Redis) -> None:
        self._pool = client.connection_pool
        self._local = threading.local()

    @classmethod
    def of(cls, client: Redis) -> ThreadConnections:
        """The one instance for `client`'s pool, shared by every repository on it: a thread keeps one
        dedicated connection, however many repositories send through it."""
        pool = client.connection_pool
        # Kept on the pool itself, so it lives and dies with it (the pool's connection arguments refer back
        # to the pool, which rules out a cache weakly keyed by it).
        shared: ThreadConnections | None = getattr(pool, _SHARED_ATTRIBUTE, None)
        if shared is None:
            shared = cls(client)
            setattr(pool, _SHARED_ATTRIBUTE, shared)
        return shared

    def execute(self, *args: Any) -> Any:
        """Send one command, return its reply (ResponseError and its subclasses are raised). Arguments are
        str, bytes, int or float; `args[0]` is one word (the command's name)."""
        # Packed by hiredis in one call: redis-py's packer first re-tuples every argument in Python, which
        # for a send's accept (~100 arguments) cost more than the packing itself.
        packed = hiredis.pack_command(args)
        conn = self._connection()
        try:
            conn.send_packed_command((packed,))
            return conn.read_response()
        except (RedisConnectionError, RedisTimeoutError):
            conn.disconnect()
            conn = self._connection()
            conn.send_packed_command((packed,))
            return conn.read_response()

    def run_script(self, script: Script, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """`script` (registered on the client) run by its SHA, loaded first if Redis does not have it (it
        restarted, or its scripts were flushed)."""
        try:
            return self.execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            script.registered_client.script_load(script.script)
            return self.execute("EVALSHA", script.sha, len(keys), *keys, *args)

    def _connection(self) -> Any:  # a redis-py Connection (its methods are not annotated)
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.pid != os.getpid():
            conn = self._pool.connection_class(**self._pool.connection_kwargs)
            self._local.conn = conn
        return conn
