"""Webhook custom headers must be sendable header values (visible ASCII, spaces and tabs: anything else is
refused at the API, not discovered at every delivery); webhook audit entries are found by their session; and
an entry is only written for a request that succeeded."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response, request

from tests.integration.webhooks.conftest import Receiver


def _session(app: Flask, headers: dict[str, str], name: str = "audited") -> str:
    response = app.test_client().post("/api/sessions", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    return str(response.json["id"])


BAD_VALUES = [
    "a\x00b",
    "a\x01b",
    "ansi \x1b[31m red",
    "bell\x07",
    "vertical\x0btab",
    "form\x0cfeed",
    "delete\x7f",
    "next-line\x85",
    "line\u2028separator",
    "café",  # httpx sends header values as ASCII: this one would fail every delivery
]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_custom_headers_with_control_or_non_ascii_characters_are_refused(
    wh_app: Flask, admin_headers: dict[str, str], receiver: Receiver, value: str
) -> None:
    client = wh_app.test_client()
    session_id = _session(wh_app, admin_headers)
    base = f"/api/sessions/{session_id}/webhooks"
    created = client.post(
        base, json={"url": receiver.url, "headers": {"X-Custom": value}}, headers=admin_headers
    )
    assert (created.status_code, created.json["code"]) == (400, "VALIDATION_ERROR"), created.json
    hook = client.post(base, json={"url": receiver.url}, headers=admin_headers).json
    updated = client.put(f"{base}/{hook['id']}", json={"headers": {"X-Custom": value}}, headers=admin_headers)
    assert (updated.status_code, updated.json["code"]) == (400, "VALIDATION_ERROR"), updated.json


def test_ordinary_header_values_with_spaces_and_tabs_are_accepted_and_sent(
    wh_app: Flask, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    client = wh_app.test_client()
    session_id = _session(wh_app, admin_headers)
    base = f"/api/sessions/{session_id}/webhooks"
    value = "Bearer abc.DEF-123_~!#$%&'*+^`|\ttabbed"
    hook = client.post(
        base, json={"url": receiver.url, "headers": {"X-Custom": value}}, headers=admin_headers
    )
    assert hook.status_code == 201, hook.json
    assert client.post(f"{base}/{hook.json['id']}/test", headers=admin_headers).json["success"] is True
    assert receiver.received[0].headers["x-custom"] == value


def _audit(app: Flask, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = app.test_client().get("/api/audit", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    return list(body["data"] if isinstance(body, dict) else body)


def test_webhook_audit_entries_are_found_by_their_session(
    wh_app: Flask, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    client = wh_app.test_client()
    session_id = _session(wh_app, admin_headers)
    other = _session(wh_app, admin_headers, "other")
    base = f"/api/sessions/{session_id}/webhooks"
    hook = client.post(base, json={"url": receiver.url}, headers=admin_headers).json
    client.put(f"{base}/{hook['id']}", json={"active": False}, headers=admin_headers)
    client.delete(f"{base}/{hook['id']}", headers=admin_headers)
    client.post(f"/api/sessions/{other}/webhooks", json={"url": receiver.url}, headers=admin_headers)

    entries = _audit(wh_app, admin_headers, sessionId=session_id)
    webhook_actions = sorted(entry["action"] for entry in entries if entry["action"].startswith("webhook_"))
    assert webhook_actions == ["webhook_created", "webhook_deleted", "webhook_updated"]
    assert all(entry["sessionId"] == session_id for entry in entries)


def test_a_webhook_whose_creation_failed_is_not_audited_as_created(
    wh_app: Flask, admin_headers: dict[str, str]
) -> None:
    session_id = _session(wh_app, admin_headers)
    failed = wh_app.test_client().post(
        f"/api/sessions/{session_id}/webhooks",
        data=b'{"url": "http://127.0.0.1:9/\\ud800"}',
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert failed.status_code == 400, failed.json
    assert [e for e in _audit(wh_app, admin_headers) if e["action"] == "webhook_created"] == []


def test_an_action_whose_response_failed_is_not_audited(
    wh_app: Flask, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    @wh_app.after_request
    def fail_after_the_handler(response: Response) -> Response:
        """Something after the handler fails (as serialising an unencodable answer did): the client gets a
        500, so the action must not be recorded as done."""
        if request.path.endswith("/webhooks") and response.status_code == 201:
            response.status_code = 500
        return response

    session_id = _session(wh_app, admin_headers)
    created = wh_app.test_client().post(
        f"/api/sessions/{session_id}/webhooks", json={"url": receiver.url}, headers=admin_headers
    )
    assert created.status_code == 500
    # The session's creation (a success) is audited; the failed webhook creation is not.
    assert [e["action"] for e in _audit(wh_app, admin_headers)] == ["session_created"]
