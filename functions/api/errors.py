"""The one table at the edge: domain errors and HTTP exceptions become OpenWA's flat error body.

`{"statusCode", "error", "message", "code", "details", "timestamp", "requestId", "path"}` — validation
errors carry `message` as a list of `field: problem` strings (as OpenWA's ValidationPipe) and the
structured field errors in `details`.
"""

from __future__ import annotations

import math
import time
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from functions.core.clock import iso, utcnow
from functions.core.errors import DomainError, TooManyRequests
from functions.log import get_logger

log = get_logger(__name__)

# Codes for plain HTTP errors that do not come from a domain error.
_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    428: "PRECONDITION_REQUIRED",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def error_response(
    status: int, message: Any, code: str, details: dict[str, Any] | None = None, **extra: Any
) -> Response:
    body: dict[str, Any] = {
        "statusCode": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "code": code,
        "details": details or {},
        "timestamp": iso(utcnow()),
        "requestId": getattr(g, "request_id", ""),
        "path": request.path,
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    return response


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    """marshmallow's nested `{field: [msg]}` as `["field: msg", ...]` (OpenWA's array message)."""
    if isinstance(messages, dict):
        out: list[str] = []
        for name, value in messages.items():
            label = str(name) if name != "_schema" else ""
            out += _flatten(value, f"{prefix}.{label}" if prefix and label else prefix or label)
        return out
    if isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        return [f"{prefix}: {item}" if prefix else item for item in messages]
    if isinstance(messages, list):
        return [line for item in messages for line in _flatten(item, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def _field_errors(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs' `{location: {field: [msg]}}` merged into `{field: [msg]}`; a whole-location problem
    (e.g. a body that is not JSON) is reported under `body` (or the location's name)."""
    fields: dict[str, Any] = {}
    for location, value in messages.items():
        if isinstance(value, dict):
            fields.update(value)
        else:
            fields["body" if location == "json" else location] = value
    return fields


def handle_domain_error(error: DomainError) -> Response:
    if error.status >= 500:
        log.warning("domain_error", code=error.code, message=error.message, details=error.details)
    if isinstance(error, TooManyRequests):
        wait = error.retry_after_seconds
        response = error_response(
            error.status, error.message, error.code, error.details, retryAfterSeconds=wait
        )
        response.headers["Retry-After"] = str(wait)
        return response
    return error_response(error.status, error.message, error.code, error.details)


def _route_miss(error: HTTPException) -> Response | None:
    """The router's own 404 and 405 (no route for the path, or not for this method), told apart from a
    resource that is missing: `ROUTE_NOT_FOUND` naming the request and where the routes are listed, and
    `METHOD_NOT_ALLOWED` naming the methods the path takes. None for any other HTTP exception."""
    if request.routing_exception is not error or error.code not in (404, 405):
        return None
    where = f"{request.method} {request.path}"
    docs = " (see /api/docs)" if current_app.config.get("OPENAPI_URL_PREFIX") else ""
    if error.code == 404:
        return error_response(404, f"No route {where}{docs}", "ROUTE_NOT_FOUND", {"method": request.method})
    allowed = sorted(getattr(error, "valid_methods", None) or [])
    response = error_response(
        405,
        f"Method {request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}",
        "METHOD_NOT_ALLOWED",
        {"method": request.method, "allowed": allowed},
    )
    response.headers["Allow"] = ", ".join(allowed)
    return response


def handle_http_exception(error: HTTPException) -> Response:
    miss = _route_miss(error)
    if miss is not None:
        return miss
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages is not None:
        # webargs validation failure: `messages` is {location: {field: [msg]}}.
        fields = _field_errors(messages)
        response = error_response(
            400, _flatten(fields) or ["Invalid request"], "VALIDATION_ERROR", {"fields": fields}
        )
    else:
        message = data.get("message") or error.description or HTTPStatus(status).phrase
        response = error_response(status, message, _HTTP_CODES.get(status, f"HTTP_{status}"))
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_rate_limited(error: RateLimitExceeded) -> Response:
    retry_after = _retry_after_seconds()
    response = error_response(
        429,
        f"Too many requests: limit {error.description}",
        "RATE_LIMITED",
        {"limit": str(error.description)},
        retryAfterSeconds=retry_after,
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _retry_after_seconds() -> int:
    """Seconds until the breached window resets, from flask-limiter's view of this request."""
    limiter = current_app.extensions.get("openwa_limiter")
    current = limiter.current_limit if limiter is not None else None
    if current is None:
        return 1
    return max(1, math.ceil(int(current.reset_at) - time.time()))


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled_error", error=type(error).__name__)
    return error_response(500, "Internal server error", "INTERNAL_ERROR")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
