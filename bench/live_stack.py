"""The whole gateway on this machine, for the messaging benchmarks: a private redis-server, the sandbox, the
API on gunicorn (the harness's settings, as `openwa api` runs) and one runner with the sandbox engine, plus
a session linked to a sandbox phone and ready to send.

    with LiveStack(workdir) as stack:
        session_id = stack.link_session("alice", "15550001111")
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from redis import Redis
from rq import Queue

from bench.harness import (
    BenchError,
    Gunicorn,
    GunicornSettings,
    RedisServer,
    children_of,
    cpu_seconds,
    wait_for_port,
)
from functions.cli.embedded import UP_RUNNER_NICE
from functions.cli.redis_server import free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


def _stop(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


class LiveStack:
    """Redis, sandbox, API and runner processes in `workdir`, stopped (by pid) on exit."""

    def __init__(self, workdir: Path, settings: GunicornSettings | None = None, **env: str) -> None:
        self.workdir = workdir
        self.settings = settings or GunicornSettings()
        self.master_key = "owa_k1_" + secrets.token_hex(32)
        self.sandbox_port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.extra_env = env
        self.env: dict[str, str] = {}
        self.redis_url = ""
        self.api: Gunicorn | None = None
        self._stack = contextlib.ExitStack()
        self._processes: dict[str, subprocess.Popen[bytes]] = {}  # by name, in start order
        self._http = httpx.Client(timeout=30.0)

    @property
    def api_url(self) -> str:
        assert self.api is not None
        return f"http://127.0.0.1:{self.api.port}"

    def __enter__(self) -> LiveStack:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        redis = self._stack.enter_context(RedisServer())
        self.redis_url = redis.url
        self.env = {name: value for name, value in os.environ.items() if name != "GUNICORN_CMD_ARGS"}
        self.env.update(
            REDIS_URL=redis.url,
            DATA_DIR=str(self.workdir / "data"),
            API_MASTER_KEY=self.master_key,
            # Off, and every benchmark on this stack says so: on by default (20/s per IP), it would answer
            # a one-client load generator with 429s instead of measuring the route.
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="warning",
            ENGINE_TYPE="sandbox",
            SANDBOX_URL=self.sandbox_url + "/",
            CHROMIUM_PATH=CHROMIUM,
            SEND_PACING_ENABLED="false",
            **self.extra_env,
        )
        command = [sys.executable, "-m", "runner.sandbox", "--port", str(self.sandbox_port)]
        command += ["--data-dir", str(self.workdir / "sandbox")]
        sandbox = self._spawn(command, "sandbox")
        wait_for_port(self.sandbox_port, 30, sandbox)
        self.api = self._stack.enter_context(
            Gunicorn("functions.wsgi:app", self.settings, self.env, self.workdir)
        )
        # The runner's CPU priority is `openwa up`'s (UP_RUNNER_NICE): the API and runner share this machine.
        runner_env = {"RUNNER_ID": "bench-runner", "RUNNER_NICE": str(UP_RUNNER_NICE), **self.extra_env}
        self._spawn([sys.executable, "-m", "runner"], "runner", **runner_env)

    def _spawn(self, command: list[str], name: str, **env: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command, cwd=self.workdir, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self._processes[name] = process
        return process

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for process in reversed(self._processes.values()):  # the runner first: it stops its browsers
            _stop(process)
        self._http.close()
        self._stack.close()

    def background_cpu_seconds(self, name: str | None = None) -> float:
        """CPU used so far by the sandbox and the runner's whole process tree (supervisor, session processes,
        Playwright drivers, Chromium): what competes with the API for this machine's cores. With `name`
        ("sandbox" or "runner"), that process tree's alone."""
        roots = list(self._processes.values()) if name is None else [self._processes[name]]
        pids, todo = [], [process.pid for process in roots]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo += children_of(pid)
        return cpu_seconds(pids)

    def runner_queue_depth(self, queue_name: str) -> int:
        """Jobs waiting on RQ queue `queue_name`."""
        with Redis.from_url(self.redis_url) as conn:
            return int(conn.llen(Queue.redis_queue_namespace_prefix + queue_name))

    def runner_log(self) -> str:
        return (self.workdir / "runner.log").read_text(errors="replace")[-3000:]

    # ------------------------------------------------------------------------------------------- calls

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """An API call with the admin key; BenchError on a non-2xx answer."""
        headers = {"X-API-Key": self.master_key}
        response = self._http.request(
            method, self.api_url + path, json=body, params=params or None, headers=headers
        )
        if not response.is_success:
            raise BenchError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the sandbox control API (`/_sandbox/...`)."""
        response = self._http.request(method, f"{self.sandbox_url}/_sandbox{path}", json=body)
        if not response.is_success:
            raise BenchError(
                f"sandbox {method} {path} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json()

    def add_phone(self, number: str, name: str) -> None:
        self.control("POST", "/phones", {"number": number, "name": name})

    def wait_status(self, session_id: str, status: str, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session: dict[str, Any] = self.call("GET", f"/api/sessions/{session_id}")
            if session["status"] == status:
                return session
            time.sleep(0.1)
        raise BenchError(f"session {session_id} not {status} within {timeout:.0f} s\n{self.runner_log()}")

    def link_session(self, name: str, number: str) -> str:
        """A new session, started and linked to the new sandbox phone `number`; returns its id once ready."""
        self.add_phone(number, name)
        session_id = str(self.call("POST", "/api/sessions", {"name": name})["id"])
        self.call("POST", f"/api/sessions/{session_id}/start")
        self.wait_status(session_id, "qr_ready")
        raw = self.call("GET", f"/api/sessions/{session_id}/qr", format="raw")["raw"]
        self.control("POST", f"/phones/{number}/link", {"qr": raw})
        self.wait_status(session_id, "ready")
        return session_id
