"""Domain errors. Each carries a machine `code` and the HTTP status the edge maps it to.

Raise these from services, state, storage and jobs; `functions.api.errors` turns them into OpenWA's flat
error body. Third-party exceptions are translated where they enter (`raise ... from exc`).
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base class. Subclasses set `status` and `code`; `details` is extra, JSON-safe context."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    default_message: ClassVar[str] = "Bad request"

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    status, code, default_message = 400, "VALIDATION_ERROR", "Request validation failed"

    @classmethod
    def of_field(cls, field: str, message: str) -> ValidationFailed:
        """A 400 naming one field, as a schema's would (`details.fields.<field>`)."""
        return cls(message, details={"fields": {field: [message]}})


class Unauthenticated(DomainError):
    status, code, default_message = 401, "UNAUTHORIZED", "Missing or invalid API key"


class Forbidden(DomainError):
    status, code, default_message = 403, "FORBIDDEN", "Insufficient permissions"


class NotFound(DomainError):
    status, code, default_message = 404, "NOT_FOUND", "Resource not found"


class Conflict(DomainError):
    status, code, default_message = 409, "CONFLICT", "Conflict"


class TooManyRequests(DomainError):
    """429 with how long to wait: the edge adds `retryAfterSeconds` to the body and a Retry-After header."""

    status, code, default_message = 429, "TOO_MANY_REQUESTS", "Too many requests"

    def __init__(
        self, message: str | None = None, *, retry_after_seconds: int, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(DomainError):
    status, code, default_message = 503, "SERVICE_UNAVAILABLE", "A dependency is unavailable"


class StorageUnavailable(ServiceUnavailable):
    code, default_message = "STORAGE_UNAVAILABLE", "Blob storage is unavailable"


class StateUnavailable(ServiceUnavailable):
    code, default_message = "STATE_UNAVAILABLE", "State store (Redis) is unavailable"


class BlobNotFound(NotFound):
    code, default_message = "BLOB_NOT_FOUND", "Stored object not found"


class InvalidBlobKey(DomainError):
    status, code, default_message = 400, "INVALID_STORAGE_KEY", "Invalid storage key"


class DecryptionFailed(DomainError):
    status, code, default_message = 500, "DECRYPTION_FAILED", "Stored data could not be decrypted"


class EngineNotSupported(DomainError):
    """An optional engine capability the active engine lacks (OpenWA's EngineNotSupportedError)."""

    status, code, default_message = 501, "ENGINE_NOT_SUPPORTED", "Not supported by the active engine"


class RunnerTimeout(DomainError):
    status, code, default_message = 504, "RUNNER_TIMEOUT", "The session runner did not answer in time"


class SignedUrlInvalid(Forbidden):
    """A gateway-signed storage URL whose signature does not match (tampered, or signed with another key)."""

    code, default_message = "SIGNED_URL_INVALID", "The signed URL is invalid"


class SignedUrlExpired(Forbidden):
    """A correctly signed storage URL past its `expires` time; 403 like S3's own expired presigned URLs."""

    code, default_message = "SIGNED_URL_EXPIRED", "The signed URL has expired"
