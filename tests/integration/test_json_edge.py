"""The JSON edge: every route that takes a JSON body refuses, with 400 and a code, what the JSON parser
would otherwise pass on to crash later — invalid Unicode (lone surrogates, which no store, log or
serialiser can write back), integers too long to convert and nesting deeper than any body needs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

LONE_SURROGATES = [
    rb'{"name": "bad \ud800 name"}',  # a high surrogate alone
    rb'{"name": "\udc00"}',  # a low surrogate alone
    rb'{"name": "\ud800\u0041"}',  # a high surrogate followed by something else
    b'{"name": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes (never valid UTF-8)
    b'{"name": "\xff"}',  # not UTF-8 at all
]


def _body_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every documented operation with a JSON request body; path parameters filled in."""
    spec = app.test_client().get("/api/openapi.json").json
    assert spec is not None
    routes = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            if "application/json" in (operation.get("requestBody") or {}).get("content", {}):
                routes.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path)))
    assert len(routes) > 20, routes  # the sweep is only as good as its coverage
    return routes


def _post_raw(client: FlaskClient, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.open(
        path, method=method, data=body, headers={**headers, "Content-Type": "application/json"}
    )


def test_lone_surrogates_are_refused_with_a_code_on_every_body_route(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    problems = []
    for method, path in _body_routes(app):
        for body in LONE_SURROGATES:
            response = _post_raw(client, method, path, body, admin_headers)
            answer = (response.status_code, (response.json or {}).get("code"))
            if answer != (400, "INVALID_UNICODE"):
                problems.append((method, path, body, answer))
    assert problems == []


def test_a_valid_surrogate_pair_is_an_ordinary_character(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    body = rb'{"name": "smile \ud83d\ude00"}'
    created = _post_raw(client, "POST", "/api/auth/api-keys", body, admin_headers)
    assert created.status_code == 201, created.json
    assert created.json["name"] == "smile \U0001f600"


def test_a_lone_surrogate_in_a_webhook_url_stores_nothing_and_the_list_keeps_working(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    session_id = client.post("/api/sessions", json={"name": "hooks"}, headers=admin_headers).json["id"]
    body = rb'{"url": "http://hooks.public.test/\ud800"}'
    refused = _post_raw(client, "POST", f"/api/sessions/{session_id}/webhooks", body, admin_headers)
    assert (refused.status_code, refused.json["code"]) == (400, "INVALID_UNICODE")
    listed = client.get("/api/webhooks", headers=admin_headers)
    assert (listed.status_code, listed.json) == (200, [])


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": ' + b"9" * 5000 + b"}",  # beyond Python's 4,300-digit int conversion limit
        b'{"name": -' + b"1" * 4301 + b"}",
        b'{"name": 1e999}',  # a float that overflows to infinity
        b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b"}",  # deeper than Python's recursion limit
        b'{"name": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}",  # deeper than the serialiser can write
    ],
    ids=[
        "int-5000-digits",
        "negative-int-4301-digits",
        "float-overflow",
        "lists-1000-deep",
        "objects-200-deep",
    ],
)
def test_numbers_and_nesting_no_body_needs_are_400_on_every_body_route(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str], body: bytes
) -> None:
    problems = []
    for method, path in _body_routes(app):
        response = _post_raw(client, method, path, body, admin_headers)
        answer = (response.status_code, (response.json or {}).get("code"))
        reason = ((response.json or {}).get("details") or {}).get("fields", {}).get("body")
        if answer != (400, "VALIDATION_ERROR") or not reason:
            problems.append((method, path, answer, reason))
    assert problems == []


def test_ordinary_nesting_and_numbers_still_parse(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    session_id = client.post("/api/sessions", json={"name": "nest"}, headers=admin_headers).json["id"]
    conditions = [{"field": "body", "operator": "contains", "value": "a", "caseSensitive": False}]
    created = client.post(
        f"/api/sessions/{session_id}/webhooks",
        json={"url": "http://127.0.0.1/", "filters": {"conditions": conditions}, "retryCount": 2},
        headers=admin_headers,
    )
    # Loopback is refused by the SSRF guard: the body itself parsed and validated.
    assert (created.status_code, created.json["code"]) == (400, "WEBHOOK_URL_REFUSED")


def test_invalid_json_syntax_is_a_validation_error_of_the_body(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    for body in (b'{"name": ', b"{'name': 'x'}", b'{"name": NaN}', b"   "):
        response = _post_raw(client, "POST", "/api/sessions", body, admin_headers)
        assert (response.status_code, response.json["code"]) == (400, "VALIDATION_ERROR"), body
        [reason] = response.json["details"]["fields"]["body"]
        assert reason.startswith("Invalid JSON body"), reason


def test_the_openapi_document_names_the_edge_codes_of_every_400(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").json
    description = spec["components"]["responses"]["BAD_REQUEST"]["description"]
    assert "INVALID_UNICODE" in description
    assert "VALIDATION_ERROR" in description
