"""`openwa-healthcheck` (infra/docker/healthcheck.py), the probe behind every HEALTHCHECK and Kubernetes exec
probe, run as the containers run it (a subprocess; exit 0 healthy, 1 not) against real servers: the app on
a real HTTP server, the sandbox, and Redis holding a runner heartbeat or an RQ worker registration.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from redis import Redis
from rq import Worker
from werkzeug.serving import BaseWSGIServer, make_server

from functions.cli.redis_server import free_port
from functions.state.keys import Keys
from runner.leases import LeaseStore
from runner.sandbox.app import SandboxConfig
from runner.sandbox.app import create_app as create_sandbox
from tests.infra.entrypoints import INFRA
from tests.live import gateway_env

PROBE = INFRA / "docker/healthcheck.py"


def load_probe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("openwa_healthcheck", PROBE)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def probe_env(redis_url: str, tmp_path: Path, master_key: str) -> dict[str, str]:
    return gateway_env(redis_url, tmp_path / "data", master_key)


def run_probe(mode: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROBE), mode], env=env, cwd=cwd, capture_output=True, text=True, timeout=30
    )


@contextlib.contextmanager
def serve(app: Flask) -> Iterator[BaseWSGIServer]:
    """`app` on a real threaded HTTP server on 127.0.0.1, for the length of the block."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def api_server(app: Flask) -> Iterator[BaseWSGIServer]:
    with serve(app) as server:
        yield server


def test_probe_paths_are_routes_of_the_apps(route_paths: set[str], tmp_path: Path) -> None:
    probe = load_probe()
    assert probe.API_LIVE_PATH in route_paths
    sandbox, network = create_sandbox(SandboxConfig(tmp_path / "sandbox"))
    try:
        assert probe.SANDBOX_PATH in {rule.rule for rule in sandbox.url_map.iter_rules()}
    finally:
        network.store.close()
    assert set(probe.CHECKS) == {"api", "worker", "runner", "sandbox"}


def test_api_probe_is_healthy_while_the_app_serves_and_not_after(
    api_server: BaseWSGIServer, probe_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**probe_env, "PORT": str(api_server.port), "BIND_HOST": "0.0.0.0"}
    assert run_probe("api", env, tmp_path).returncode == 0
    api_server.shutdown()
    down = run_probe("api", env, tmp_path)
    assert down.returncode == 1
    assert "unhealthy" in down.stderr
    assert "/api/health/live" in down.stderr


def test_sandbox_probe_is_healthy_while_the_sandbox_serves(probe_env: dict[str, str], tmp_path: Path) -> None:
    sandbox, network = create_sandbox(SandboxConfig(tmp_path / "sandbox"))
    try:
        with serve(sandbox) as server:
            env = {**probe_env, "SANDBOX_PORT": str(server.port), "SANDBOX_HOST": "0.0.0.0"}
            assert run_probe("sandbox", env, tmp_path).returncode == 0
    finally:
        network.store.close()


def test_runner_probe_follows_this_hosts_heartbeat(
    redis_conn: Redis, probe_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_probe("runner", probe_env, tmp_path).returncode == 1
    leases = LeaseStore(redis_conn, Keys("openwa"), ttl_seconds=10)
    # A heartbeat of another host does not make this one healthy.
    leases.heartbeat("elsewhere-1", [])
    assert run_probe("runner", probe_env, tmp_path).returncode == 1
    runner_id = f"{socket.gethostname()}-4242"
    leases.heartbeat(runner_id, [])
    assert run_probe("runner", probe_env, tmp_path).returncode == 0
    # With RUNNER_ID (Kubernetes sets the pod name), only that runner's heartbeat counts.
    assert run_probe("runner", {**probe_env, "RUNNER_ID": "openwa-runner-0"}, tmp_path).returncode == 1
    assert run_probe("runner", {**probe_env, "RUNNER_ID": runner_id}, tmp_path).returncode == 0
    leases.unregister(runner_id)
    assert run_probe("runner", probe_env, tmp_path).returncode == 1


def test_worker_probe_follows_this_hosts_rq_registration(
    redis_conn: Redis, probe_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_probe("worker", probe_env, tmp_path).returncode == 1
    worker = Worker(["webhooks"], connection=redis_conn)
    worker.register_birth()  # type: ignore[no-untyped-call]
    assert run_probe("worker", probe_env, tmp_path).returncode == 0
    worker.register_death()  # type: ignore[no-untyped-call]
    assert run_probe("worker", probe_env, tmp_path).returncode == 1


def test_probe_reports_an_unreachable_redis_as_unhealthy(probe_env: dict[str, str], tmp_path: Path) -> None:
    env = {**probe_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    result = run_probe("runner", env, tmp_path)
    assert result.returncode == 1
    assert "Redis unreachable" in result.stderr


def test_unknown_mode_is_a_usage_error(probe_env: dict[str, str], tmp_path: Path) -> None:
    result = run_probe("database", probe_env, tmp_path)
    assert result.returncode == 2
    assert "usage: openwa-healthcheck api|worker|runner|sandbox" in result.stderr
