"""Fixtures of the deployment tests: the app's routes, and a moto S3 server for the packaged Lambda."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from moto.server import ThreadedMotoServer

from functions.cli.redis_server import free_port


@pytest.fixture
def route_paths(app: Flask) -> set[str]:
    """Every URL rule of the real app (built by the root conftest against a real Redis)."""
    return {rule.rule for rule in app.url_map.iter_rules()}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 for one test module; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
