"""One access log line per API request, in the process's JSON format, with the request's id and never its
query string; health probes not at info; RQ's routine lines only at debug.

The app runs in a child process of its own: structlog caches each logger at its first use, so a process
whose logging another test already configured would not show what a fresh API process writes."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from functions.log import configure_logging

_REQUESTS = """
from functions.api.app import create_app
client = create_app().test_client()
key = {"X-API-Key": __import__("os").environ["API_MASTER_KEY"]}
client.get("/api/sessions?token=s3cret", headers={**key, "X-Request-ID": "trace-77"})
client.post("/api/nowhere", json={}, headers={"X-Request-ID": "trace-78"})
client.get("/api/health/live")
"""


def api_process_log(redis_url: str, data_dir: Path, master_key: str, **env: str) -> str:
    """What a fresh API process writes to stderr while serving the three requests of `_REQUESTS`."""
    environment = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data_dir),
        "API_MASTER_KEY": master_key,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "info",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", _REQUESTS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def access_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "http_request"]


def test_each_request_logs_one_line_with_its_request_id_and_no_query_string(
    redis_url: str, tmp_path: Path, master_key: str
) -> None:
    stderr = api_process_log(redis_url, tmp_path, master_key)
    lines = access_lines(stderr)
    assert [(line["request_id"], line["method"], line["path"], line["status"]) for line in lines] == [
        ("trace-77", "GET", "/api/sessions", 200),
        ("trace-78", "POST", "/api/nowhere", 404),
    ]  # and the health probe is not among them
    assert all(line["level"] == "info" and line["durationMs"] >= 0 for line in lines)
    assert "s3cret" not in stderr


def test_access_log_off_logs_no_request(redis_url: str, tmp_path: Path, master_key: str) -> None:
    assert access_lines(api_process_log(redis_url, tmp_path, master_key, ACCESS_LOG="false")) == []


@pytest.mark.parametrize(("level", "rq_level"), [("info", logging.WARNING), ("debug", logging.DEBUG)])
def test_rq_routine_lines_show_only_at_debug(level: str, rq_level: int) -> None:
    configure_logging(level, "json")
    try:
        assert logging.getLogger("rq.worker").level == rq_level
        assert logging.getLogger("rq.scheduler").level == rq_level
        assert logging.getLogger("httpx").level == max(rq_level, logging.WARNING)  # URLs carry tokens
    finally:
        configure_logging("warning", "json")
