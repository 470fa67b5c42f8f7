"""The private Redis of `openwa up`: found with no system install, started, answering, stopped, persistent."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import AuthenticationError

from functions.cli import proctable
from functions.cli.redis_server import RedisLaunchError, find_redis_server, start_redis


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_a_redis_server_binary_is_found_and_runs() -> None:
    binary = find_redis_server()

    version = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True, timeout=10
    )

    assert "Redis server" in version.stdout


def test_private_redis_answers_ping_then_stops_and_frees_its_port(tmp_path: Path) -> None:
    server = start_redis(tmp_path / "redis")
    try:
        client = Redis.from_url(server.url)
        assert client.ping() is True
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        client.close()
    finally:
        server.stop()

    assert server.child.process.returncode == 0  # SIGTERM: a clean shutdown, AOF fsynced
    assert _port_is_free(server.port)
    assert (tmp_path / "redis" / "appendonly.aof").exists()


def test_the_private_redis_wants_its_password_and_keeps_its_files_to_this_user(tmp_path: Path) -> None:
    directory = tmp_path / "redis"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)  # made by the user beforehand, readable by everyone
    server = start_redis(directory)
    try:
        anonymous = Redis(host=server.host, port=server.port)
        with pytest.raises(AuthenticationError):
            anonymous.set("openwa:api-key:forged", "admin")
        anonymous.close()
        client = Redis.from_url(server.url)
        client.set("message", "a body")
        client.close()
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
    finally:
        server.stop()

    assert server.password.encode() not in cmdline  # /proc/<pid>/cmdline is world-readable
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = [path for path in directory.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"password", "redis.conf", "redis.log"}
    assert any(path.name.endswith(".aof") for path in files)
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in files} == {
        path.name: 0o600 for path in files
    }

    again = start_redis(directory)  # the same password on every start: the AOF's clients keep working
    try:
        assert again.password == server.password
    finally:
        again.stop()


def test_data_written_before_a_stop_is_there_after_a_restart(tmp_path: Path) -> None:
    first = start_redis(tmp_path / "redis")
    try:
        Redis.from_url(first.url).set("retry:webhook", "due-in-5-min")
    finally:
        first.stop()

    second = start_redis(tmp_path / "redis")
    try:
        assert Redis.from_url(second.url).get("retry:webhook") == b"due-in-5-min"
    finally:
        second.stop()


def test_a_binary_that_exits_at_once_is_a_clear_launch_error(tmp_path: Path) -> None:
    with pytest.raises(RedisLaunchError, match="exited during startup"):
        start_redis(tmp_path / "redis", binary=Path("/bin/false"))


def test_an_interrupted_start_leaves_no_server_behind(tmp_path: Path) -> None:
    before = proctable.descendants([os.getpid()])
    calls = 0

    def interrupt_once_spawned() -> None:
        nonlocal calls
        calls += 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        start_redis(tmp_path / "redis", poll=interrupt_once_spawned)

    assert calls == 1
    assert proctable.descendants([os.getpid()]) <= before
