"""Redis connections from settings; translating connection failures into `StateUnavailable`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import hiredis
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from functions.config import Settings
from functions.core.errors import StateUnavailable


def redis_from_settings(settings: Settings) -> Redis:
    """A pooled client. Short timeouts: a dead Redis must fail a request fast, not hang a worker. The pool
    holds up to REDIS_MAX_CONNECTIONS (redis-py's default is 100): a gevent worker serves up to
    GUNICORN_WORKER_CONNECTIONS requests at once, each of which may hold a connection while it waits on
    Redis; past the cap a command fails at once ("Too many connections", 503) rather than queueing."""
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=3,
        socket_timeout=5,
        health_check_interval=30,
        retry_on_timeout=True,
        max_connections=settings.redis_max_connections,
    )


@contextmanager
def translate_redis_errors() -> Iterator[None]:
    """Turn Redis transport failures, and a Redis full to its maxmemory, into the domain's 503."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise StateUnavailable(details={"reason": str(exc)}) from exc
    except ResponseError as exc:
        if "OOM command not allowed" in str(exc):  # maxmemory reached (noeviction): nothing was written
            raise StateUnavailable(details={"reason": "Redis is out of memory (maxmemory)"}) from exc
        raise


_SHARED_ATTRIBUTE = "_openwa_dedicated_connections"


class DirectConnections:
    """Connections of our own to the server of `client`, for the hottest commands (the session list's read,
    a send's accept): each command takes one from a free list and puts it back when answered.

    A command through the client borrows a pooled connection: a lock shared by the process's threads, a
    poll of the socket, and redis-py's per-use bookkeeping. That costs more CPU than the round trip itself
    (~50 us a command, measured), and an API worker pays it on every request. The free list is a plain
    list: `pop` and `append` are atomic under the interpreter lock, and never switch greenlets, so it serves
    gthread workers (a thread's command never shares a connection) and gevent workers (one connection per
    command in flight, not one per client connection or per greenlet) alike. At most `_IDLE_KEPT` idle
    connections are kept; the rest are closed. One that fails is dropped and the command retried once on a
    new one, as the client does with `retry_on_timeout`. A retried write may therefore run twice, as
    through the client: a send accepted twice is queued twice under one message id, and the second run of
    its job finds the message's send count above one and has the engine look for it first.
    """

    _IDLE_KEPT = 64

    def __init__(self, client: Redis) -> None:
        self._pool = client.connection_pool
        self._idle: list[Any] = []
        self._pid = os.getpid()

    @classmethod
    def of(cls, client: Redis) -> DirectConnections:
        """The one instance for `client`'s pool, shared by every repository on it."""
        pool = client.connection_pool
        # Kept on the pool itself, so it lives and dies with it (the pool's connection arguments refer back
        # to the pool, which rules out a cache weakly keyed by it).
        shared: DirectConnections | None = getattr(pool, _SHARED_ATTRIBUTE, None)
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
        conn = self._take()
        try:
            conn.send_packed_command((packed,))
            reply = conn.read_response()
        except (RedisConnectionError, RedisTimeoutError):
            conn.disconnect()
            conn = self._new()
            try:
                conn.send_packed_command((packed,))
                reply = conn.read_response()
            except BaseException:
                conn.disconnect()
                raise
        except ResponseError:
            self._give_back(conn)  # an error reply leaves the connection in a clean state
            raise
        except BaseException:
            conn.disconnect()  # a half-read reply (a timeout, a killed greenlet) must never be reused
            raise
        self._give_back(conn)
        return reply

    def run_script(self, script: Script, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """`script` (registered on the client) run by its SHA, loaded first if Redis does not have it (it
        restarted, or its scripts were flushed)."""
        try:
            return self.execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            script.registered_client.script_load(script.script)
            return self.execute("EVALSHA", script.sha, len(keys), *keys, *args)

    def _take(self) -> Any:  # a redis-py Connection (its methods are not annotated)
        if self._pid != os.getpid():  # forked: the parent's sockets are not ours to use
            self._idle, self._pid = [], os.getpid()
        try:
            return self._idle.pop()
        except IndexError:
            return self._new()

    def _new(self) -> Any:
        return self._pool.connection_class(**self._pool.connection_kwargs)

    def _give_back(self, conn: Any) -> None:
        if len(self._idle) < self._IDLE_KEPT:
            self._idle.append(conn)
        else:
            conn.disconnect()
