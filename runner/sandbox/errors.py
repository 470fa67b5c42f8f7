"""Errors of the sandbox network. Each carries the HTTP status the control API answers with and a wa-js-style
code the page rejects its promise with (wa-js throws `WPPError` objects that have a `code`)."""

from __future__ import annotations


class SandboxError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class BadRequest(SandboxError):
    status = 400
    code = "bad_request"


class NotFound(SandboxError):
    status = 404
    code = "not_found"


class Conflict(SandboxError):
    status = 409
    code = "conflict"


class Unauthorized(SandboxError):
    status = 401
    code = "unauthorized"


class Unavailable(SandboxError):
    status = 503
    code = "offline"
