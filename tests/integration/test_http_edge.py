"""The HTTP edge: request ids, body limits, content types, rate limits, health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from functions.api.app import create_app
from functions.cli.redis_server import free_port


def test_request_id_is_echoed_or_minted(client: FlaskClient) -> None:
    echoed = client.get("/api/health/live", headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["X-Request-ID"] == "trace-123"
    minted = client.get("/api/health/live", headers={"X-Request-ID": "bad id with spaces"})
    assert minted.headers["X-Request-ID"] not in {"", "bad id with spaces"}
    error = client.get("/api/sessions", headers={"X-Request-ID": "trace-456"})
    assert error.json["requestId"] == "trace-456"


def test_error_body_is_flat_openwa_shape(client: FlaskClient) -> None:
    body = client.get("/api/nowhere").json
    assert set(body) >= {
        "statusCode",
        "error",
        "message",
        "code",
        "details",
        "timestamp",
        "requestId",
        "path",
    }
    assert (body["statusCode"], body["error"], body["code"], body["path"]) == (
        404,
        "Not Found",
        "ROUTE_NOT_FOUND",
        "/api/nowhere",
    )


def test_an_unknown_route_is_told_apart_from_a_missing_resource(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    no_route = client.post("/api/sessions/abc/messages/send-txt", json={}, headers=admin_headers)
    assert (no_route.status_code, no_route.json["code"]) == (404, "ROUTE_NOT_FOUND")
    assert no_route.json["message"] == "No route POST /api/sessions/abc/messages/send-txt (see /api/docs)"
    missing = client.get("/api/sessions/no-such-session", headers=admin_headers)
    assert (missing.status_code, missing.json["code"]) == (404, "SESSION_NOT_FOUND")


def test_a_wrong_method_names_the_methods_the_route_takes(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    response = client.delete("/api/sessions", headers=admin_headers)
    assert (response.status_code, response.json["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert response.json["details"]["allowed"] == ["GET", "HEAD", "OPTIONS", "POST"]
    assert (
        response.json["message"]
        == "Method DELETE is not allowed on /api/sessions; allowed: GET, HEAD, OPTIONS, POST"
    )
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_without_the_docs_an_unknown_route_does_not_point_at_them(make_settings: Any) -> None:
    client = create_app(make_settings(enable_swagger=False)).test_client()
    assert client.get("/api/nowhere").json["message"] == "No route GET /api/nowhere"


def test_body_over_the_limit_is_413(make_settings: Any, master_key: str) -> None:
    client = create_app(make_settings(body_size_limit=2048)).test_client()
    response = client.post(
        "/api/sessions",
        json={"name": "big", "proxyUrl": "http://" + "x" * 4000},
        headers={"X-API-Key": master_key},
    )
    assert response.status_code == 413
    assert response.json["code"] == "PAYLOAD_TOO_LARGE"


def test_wrong_content_type_or_encoding_is_415(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    form = client.post("/api/sessions", data={"name": "abc"}, headers=admin_headers)
    assert form.status_code == 415
    assert form.json["code"] == "UNSUPPORTED_MEDIA_TYPE"
    gzipped = client.post(
        "/api/sessions", json={"name": "abc"}, headers={**admin_headers, "Content-Encoding": "gzip"}
    )
    assert gzipped.status_code == 415
    # A bodiless POST with the SDK's JSON content type is fine.
    assert (
        client.post(
            "/api/auth/validate", headers={**admin_headers, "Content-Type": "application/json"}
        ).status_code
        == 200
    )


def test_rate_limits_answer_429_with_retry_after(make_settings: Any, master_key: str) -> None:
    settings = make_settings(rate_limit_enabled=True, rate_limit_key="3/minute", rate_limit_ip="100/minute")
    client = create_app(settings).test_client()
    headers = {"X-API-Key": master_key}
    statuses = [client.get("/api/sessions", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/sessions", headers=headers)
    assert limited.json["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json["retryAfterSeconds"] >= 1
    assert client.get("/api/health/ready").status_code == 200  # probes are exempt


def test_per_ip_limit_applies_without_a_key(make_settings: Any) -> None:
    client = create_app(make_settings(rate_limit_enabled=True, rate_limit_ip="2/minute")).test_client()
    assert [client.get("/api/sessions").status_code for _ in range(3)] == [401, 401, 429]


def test_ready_is_200_when_dependencies_answer(client: FlaskClient) -> None:
    ready = client.get("/api/health/ready")
    assert ready.status_code == 200
    assert ready.json == {"status": "ok", "details": {"redis": {"status": "up"}, "storage": {"status": "up"}}}
    assert client.get("/api/health/live").json == {"status": "ok"}


def test_ready_is_503_when_redis_is_down(make_settings: Any) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = create_app(make_settings(redis_url=dead)).test_client()
    ready = client.get("/api/health/ready")
    assert ready.status_code == 503
    assert ready.json["details"]["redis"]["status"] == "down"
    assert client.get("/api/health/live").status_code == 200
    down = client.get("/api/sessions", headers={"X-API-Key": "owa_k1_x"})
    assert down.status_code == 503
    assert down.json["code"] == "STATE_UNAVAILABLE"


def test_ready_is_503_when_storage_is_down(make_settings: Any) -> None:
    settings = make_settings(
        storage_type="s3",
        s3_endpoint=f"http://127.0.0.1:{free_port()}",
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )
    ready = create_app(settings).test_client().get("/api/health/ready")
    assert ready.status_code == 503
    assert ready.json["details"] == {
        "redis": {"status": "up"},
        "storage": {"status": "down", "error": ready.json["details"]["storage"]["error"]},
    }


def test_health_shows_version_only_to_a_valid_key(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    assert "version" not in client.get("/api/health").json
    assert "version" not in client.get("/api/health", headers={"X-API-Key": "owa_k1_wrong"}).json
    assert client.get("/api/health", headers=admin_headers).json["version"]


def test_every_operation_documents_summary_and_errors(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            statuses = set(operation["responses"])
            assert {"500", "503"} <= statuses, where
            if operation.get("security") != []:
                assert {"401", "403", "429"} <= statuses, where
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= statuses, where
            if "{session_id}" in path or "{key_id}" in path:
                assert "404" in statuses, where


def test_swagger_ui_is_served_locally(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in html
    assert "http" not in html.split("<body>", 1)[1]  # no CDN
    asset = client.get("/api/docs/static/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.get_data()) > 100_000
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
