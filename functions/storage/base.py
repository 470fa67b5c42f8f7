"""The blob storage contract shared by the S3 and local-filesystem backends.

Keys are `/`-separated relative paths: `auth/<sessionId>/state.bin`, `media/<sessionId>/<messageId>`,
`exports/...`. Every public method validates its key here, before a backend sees it, so both backends refuse
the same keys (`InvalidBlobKey`) and no key can escape the local storage root.
Backends translate their own failures: a missing object is `BlobNotFound`, anything else that stops the
store from answering is `StorageUnavailable`. Reads and writes go through a circuit breaker
(`breaker.py`): while storage is known down they fail at once instead of waiting out timeouts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from functions.core.errors import InvalidBlobKey, ValidationFailed
from functions.storage.breaker import StorageBreaker

MAX_KEY_BYTES = 1024  # S3's limit, applied to both backends so a key valid locally is valid on S3.
MAX_URL_TTL_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs cannot live longer.
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What `head` knows about a stored object. `modified` is timezone-aware UTC."""

    key: str
    size: int
    content_type: str
    modified: datetime


def validate_key(key: str) -> str:
    """Return `key` if it is a safe object key, else raise InvalidBlobKey.

    Refused: empty, longer than 1024 UTF-8 bytes, absolute, containing a backslash or a control character,
    or with an empty, `.` or `..` segment (which also rules out a trailing `/`).
    """
    _check_characters(key, allow_empty=False)
    if any(segment in {"", ".", ".."} for segment in key.split("/")):
        raise InvalidBlobKey("Storage key has an empty, '.' or '..' segment", details={"key": key})
    return key


def validate_prefix(prefix: str) -> str:
    """Like `validate_key`, but the empty prefix, a trailing `/` and any partial last segment are allowed."""
    _check_characters(prefix, allow_empty=True)
    # The last segment is only ever a name filter, never a path, so any partial name is fine there.
    if any(segment in {"", ".", ".."} for segment in prefix.split("/")[:-1]):
        raise InvalidBlobKey("Storage prefix has an empty, '.' or '..' segment", details={"prefix": prefix})
    return prefix


def _check_characters(value: str, *, allow_empty: bool) -> None:
    if not isinstance(value, str) or (not value and not allow_empty):
        raise InvalidBlobKey("Storage key must be a non-empty string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates cannot be stored by either backend
        raise InvalidBlobKey("Storage key is not valid Unicode") from exc
    if size > MAX_KEY_BYTES:
        raise InvalidBlobKey(f"Storage key is longer than {MAX_KEY_BYTES} bytes", details={"bytes": size})
    if value.startswith("/"):
        raise InvalidBlobKey("Storage key must be relative", details={"key": value})
    if "\\" in value or any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in value):
        raise InvalidBlobKey("Storage key contains a backslash or control character")


def validate_ttl(expires_in: int) -> int:
    """Return `expires_in` if it is a usable signed-URL lifetime (1 s to 7 days), else ValidationFailed."""
    if isinstance(expires_in, bool) or not 1 <= expires_in <= MAX_URL_TTL_SECONDS:
        raise ValidationFailed(
            f"Signed URL lifetime must be 1-{MAX_URL_TTL_SECONDS} seconds", details={"expiresIn": expires_in}
        )
    return expires_in


class BlobStorage(ABC):
    """Bytes by key. Thread-safe; writes are atomic (a reader sees the old or the new object, never a mix).

    Public methods validate keys and delegate to the `_`-prefixed hooks that backends implement.
    """

    def __init__(self, *, default_ttl_seconds: int, breaker: StorageBreaker | None = None) -> None:
        self.default_ttl_seconds = validate_ttl(default_ttl_seconds)
        self.breaker = breaker or StorageBreaker()

    def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        """Store `data` at `key`, replacing any object there. No content type means octet-stream."""
        self.breaker.call(self._put, validate_key(key), bytes(data), content_type or DEFAULT_CONTENT_TYPE)

    def get(self, key: str) -> bytes:
        """The object's bytes; BlobNotFound if there is none."""
        return self.breaker.call(self._get, validate_key(key))

    def head(self, key: str) -> BlobInfo | None:
        """Size, content type and modification time, or None if there is no object at `key`."""
        return self.breaker.call(self._head, validate_key(key))

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (idempotent)."""
        self.breaker.call(self._delete, validate_key(key))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with `prefix`; return how many were removed.

        The empty prefix is refused (InvalidBlobKey): wiping the whole store takes an explicit loop.
        """
        if not validate_prefix(prefix):
            raise InvalidBlobKey("Refusing to delete every object (empty prefix)")
        return self.breaker.call(self._delete_prefix, prefix)

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with `prefix` (a plain string prefix, as in S3), in ascending order, lazily."""
        return self._list_keys(validate_prefix(prefix))

    def signed_url(self, key: str, *, expires_in: int | None = None) -> str:
        """A URL that lets anyone holding it GET the object until it expires (default: SIGNED_URL_TTL)."""
        ttl = self.default_ttl_seconds if expires_in is None else validate_ttl(expires_in)
        return self._signed_url(validate_key(key), ttl)

    @abstractmethod
    def check(self) -> None:
        """Health probe: return if the store can be read and written, else raise StorageUnavailable fast."""

    @abstractmethod
    def _put(self, key: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    def _get(self, key: str) -> bytes: ...

    @abstractmethod
    def _head(self, key: str) -> BlobInfo | None: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def _delete_prefix(self, prefix: str) -> int: ...

    @abstractmethod
    def _list_keys(self, prefix: str) -> Iterator[str]: ...

    @abstractmethod
    def _signed_url(self, key: str, expires_in: int) -> str: ...
