"""Shared integration fixtures: a real S3 server (moto, in a thread) and a settings factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer

from functions.cli.redis_server import free_port
from functions.config import Settings, load_settings


@pytest.fixture
def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (free a moment ago), for "dead service" tests."""
    return free_port()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 for the whole session; yields its endpoint URL.

    Moto accepts any credentials and checks neither presigned signatures nor expiry, so those are tested
    against our own code elsewhere.
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_endpoint(moto_server: str) -> str:
    """The moto endpoint, wiped clean (no buckets, no objects) for this test."""
    httpx.post(f"{moto_server}/moto-api/reset", timeout=5).raise_for_status()
    return moto_server


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Build Settings with a private data dir, ignoring any `.env`; keyword overrides win."""

    def factory(**overrides: Any) -> Settings:
        defaults: dict[str, Any] = {"data_dir": tmp_path / "data", "_env_file": None}
        return load_settings(**{**defaults, **overrides})

    return factory
