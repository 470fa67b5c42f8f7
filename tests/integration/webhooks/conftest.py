"""Webhook story fixtures: a real local HTTP receiver, real `openwa worker` processes, an app allow-listing
loopback (the SSRF guard's escape hatch), and the OpenWA SDK talking to that app in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from openwa import OpenWAClient

from functions.api.app import create_app
from functions.cli.redis_server import free_port
from functions.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
LOOPBACK = ["127.0.0.1", "localhost", "::1"]
DELIVERY_NAMESPACE = uuid.UUID("5b0e4c1e-7a52-4c1f-9d0e-6f1f0c8a2b77")  # as documented on delivery_id_for


def expected_delivery_id(session_id: str, event_id: str, webhook_id: str) -> str:
    """The delivery id derived here from its documented inputs, not by calling the product's function."""
    return "dlv_" + str(uuid.uuid5(DELIVERY_NAMESPACE, f"{session_id}/{event_id}/{webhook_id}"))


# Test-speed retry timing; the stories that need the real numbers override them.
FAST = {
    "webhook_retry_schedule": ["1", "1", "1", "1"],
    "webhook_retry_jitter": 0.0,
    "webhook_sweep_interval_seconds": 1.0,
    "webhook_reconcile_grace_seconds": 1.0,
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """A threaded HTTP server on 127.0.0.1 recording every POST. `script` answers in order, then `default`.
    `stop()`/`start()` take it down and up on the same port (a receiver outage)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.script: list[Answer] = []
        self.default = Answer()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _next_answer(self) -> Answer:
        with self._lock:
            return self.script.pop(0) if self.script else self.default

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                answer = receiver._next_answer()
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._lock:  # recorded on arrival, before any delay
                    receiver.received.append(Received(self.path, headers, body, time.monotonic()))
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"receiver got {len(self.received)} requests, wanted {count} within {timeout} s")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hook_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings allow-listing loopback, with fast retries unless overridden."""

    def factory(**overrides: Any) -> Settings:
        return make_settings(**{"ssrf_allowed_hosts": LOOPBACK, **FAST, **overrides})

    return factory


@pytest.fixture
def wh_settings(hook_settings: Callable[..., Settings]) -> Settings:
    return hook_settings()


@pytest.fixture
def wh_app(wh_settings: Settings) -> Flask:
    return create_app(wh_settings)


@pytest.fixture
def sdk(wh_app: Flask, master_key: str) -> Iterator[OpenWAClient]:
    """The official OpenWA SDK, talking to the app in-process (no mocks: the real WSGI app)."""
    return OpenWAClient("https://gateway.test", master_key, transport=httpx.WSGITransport(app=wh_app))


def _env_for(settings: Settings) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("WEBHOOK_", "SSRF_"))}
    env.update(
        REDIS_URL=settings.redis_url,
        DATA_DIR=str(settings.data_dir),
        LOG_LEVEL="warning",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        SSRF_ALLOWED_HOSTS=",".join(settings.ssrf_allowed_hosts),
        WEBHOOK_RETRY_SCHEDULE=",".join(settings.webhook_retry_schedule),
        WEBHOOK_RETRY_JITTER=str(settings.webhook_retry_jitter),
        WEBHOOK_TIMEOUT=str(settings.webhook_timeout),
        WEBHOOK_SWEEP_INTERVAL_SECONDS=str(settings.webhook_sweep_interval_seconds),
        WEBHOOK_RECONCILE_GRACE_SECONDS=str(settings.webhook_reconcile_grace_seconds),
    )
    return env


class Workers:
    """`openwa worker` processes (each in its own process group, so SIGKILL takes its scheduler too)."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self._settings = settings
        self._workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int = 1) -> list[subprocess.Popen[bytes]]:
        started = []
        for index in range(count):
            log = (self._workdir / f"worker-{len(self.processes)}-{index}.log").open("wb")
            argv = [sys.executable, "-c", "from functions.cli.main import cli; cli()", "worker"]
            process = subprocess.Popen(
                argv,
                cwd=self._workdir,
                env=_env_for(self._settings),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            self.processes.append(process)
            started.append(process)
        return started

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and everything in its group (its scheduler), as a crash would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def workers(wh_settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    workdir = tmp_path / "workers"
    workdir.mkdir()
    pool = Workers(wh_settings, workdir)
    yield pool
    pool.stop_all()
