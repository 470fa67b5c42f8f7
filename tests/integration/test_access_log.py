"""One access log line per API request, in the process's JSON format, with the request's id and never its
query string; health probes not at info; RQ's routine lines only at debug."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from functions.api.app import create_app
from functions.log import configure_logging


def access_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "http_request"]


def test_each_request_logs_one_line_with_its_request_id_and_no_query_string(
    make_settings: Any, admin_headers: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    client = create_app(make_settings(log_level="info")).test_client()
    capsys.readouterr()
    client.get("/api/sessions?token=s3cret", headers={**admin_headers, "X-Request-ID": "trace-77"})
    client.post("/api/nowhere", json={}, headers={"X-Request-ID": "trace-78"})
    client.get("/api/health/live")
    stderr = capsys.readouterr().err
    lines = access_lines(stderr)
    assert [(line["request_id"], line["method"], line["path"], line["status"]) for line in lines] == [
        ("trace-77", "GET", "/api/sessions", 200),
        ("trace-78", "POST", "/api/nowhere", 404),
    ]
    assert all(line["level"] == "info" and line["durationMs"] >= 0 for line in lines)
    assert "s3cret" not in stderr


def test_access_log_off_logs_no_request(make_settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    quiet = create_app(make_settings(log_level="info", access_log=False)).test_client()
    capsys.readouterr()
    quiet.get("/api/nowhere")
    assert access_lines(capsys.readouterr().err) == []


@pytest.mark.parametrize(("level", "rq_level"), [("info", logging.WARNING), ("debug", logging.DEBUG)])
def test_rq_routine_lines_show_only_at_debug(level: str, rq_level: int) -> None:
    configure_logging(level, "json")
    try:
        assert logging.getLogger("rq.worker").level == rq_level
        assert logging.getLogger("rq.scheduler").level == rq_level
        assert logging.getLogger("httpx").level == max(rq_level, logging.WARNING)  # URLs carry tokens
    finally:
        configure_logging("warning", "json")
