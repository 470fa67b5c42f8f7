"""The labels, channels and catalog routes at the API's edge (issue #17), in-process on a real Redis and
without a runner: every documented request example passes validation and reaches the session check (409 for
a session that is not ready, so nothing is asked of an engine), unknown sessions are 404, reads need only a
viewer and writes an operator. What the engine answers is in `tests/runner/test_labels_and_channels.py`."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

_ROUTES = ("/labels", "/channels", "/catalog", "/messages/send-product", "/messages/click-button")


@pytest.fixture
def session_id(client: FlaskClient, admin_headers: dict[str, str]) -> str:
    created = client.post("/api/sessions", json={"name": "business"}, headers=admin_headers)
    assert created.status_code == 201
    return str(created.get_json()["id"])


def _operations(client: FlaskClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of the routes of this surface, from the OpenAPI document."""
    document = client.get("/api/openapi.json").get_json()
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        if any(f"{{session_id}}{route}" in path for route in _ROUTES)
        for method, operation in operations.items()
        if isinstance(operation, dict)
    ]


def _example(client: FlaskClient, operation: dict[str, Any]) -> dict[str, Any] | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    document = client.get("/api/openapi.json").get_json()
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = document["components"]["schemas"][name]["properties"]
    return {field: spec["example"] for field, spec in properties.items()}


def _url(path: str, session_id: str) -> str:
    values = {
        "session_id": session_id,
        "label_key": "3",
        "chat_key": "15550002222@c.us",
        "channel_key": "120363040000000002@newsletter",
        "product_id": "7316048991811133",
    }
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", value)
    return path


def test_every_request_example_is_valid_and_reaches_the_session_check(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str
) -> None:
    operations = _operations(client)
    assert len(operations) == 23  # labels 8, channels 10, catalog 3, send-product, click-button
    answers = {}
    for method, path, operation in operations:
        body = _example(client, operation)
        response = client.open(
            _url(path, session_id), method=method.upper(), json=body, headers=admin_headers
        )
        answers[f"{method.upper()} {path}"] = (response.status_code, response.get_json()["code"])
    assert answers == dict.fromkeys(answers, (409, "SESSION_NOT_READY"))


def test_an_unknown_session_is_404_before_anything_else(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    for method, path, operation in _operations(client):
        body = _example(client, operation)
        response = client.open(_url(path, "nope"), method=method.upper(), json=body, headers=admin_headers)
        assert (response.status_code, response.get_json()["code"]) == (404, "SESSION_NOT_FOUND"), path


def test_reads_need_a_viewer_and_writes_an_operator(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str
) -> None:
    created = client.post(
        "/api/auth/api-keys", json={"name": "viewer-key", "role": "viewer"}, headers=admin_headers
    )
    viewer = {"X-API-Key": created.get_json()["apiKey"]}
    statuses = {}
    for method, path, operation in _operations(client):
        body = _example(client, operation)
        response = client.open(_url(path, session_id), method=method.upper(), json=body, headers=viewer)
        statuses[f"{method.upper()} {path}"] = response.status_code
    reads = {name for name in statuses if name.startswith("GET ")}
    assert {name: statuses[name] for name in reads} == dict.fromkeys(reads, 409)
    writes = set(statuses) - reads
    assert {name: statuses[name] for name in writes} == dict.fromkeys(writes, 403)
