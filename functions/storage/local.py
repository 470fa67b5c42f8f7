"""Filesystem blob storage: the embedded default (`openwa up`), one directory tree on local disk.

Layout under the root: `objects/<key>` holds the raw bytes (so an operator can inspect them),
`meta/<key>.json` holds the content type when it is not octet-stream, `tmp/` holds writes in progress. Writes
go to `tmp/`, are fsynced and then `os.replace`d into place, so a reader sees the old or the new object,
never a torn one.
Signed URLs point at the gateway's own route (`/api/storage/<key>`), signed with HMAC-SHA256 under a key
derived from ENCRYPTION_KEY; that route calls `verify_signed_request` before serving the bytes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from functions.core.errors import (
    BlobNotFound,
    InvalidBlobKey,
    SignedUrlExpired,
    SignedUrlInvalid,
    StorageUnavailable,
)
from functions.storage.base import DEFAULT_CONTENT_TYPE, BlobInfo, BlobStorage
from functions.storage.breaker import StorageBreaker, breaker_from_settings

if TYPE_CHECKING:
    from functions.config import Settings
    from functions.crypto.envelope import Envelope

SIGNING_INFO = b"openwa-storage-url"
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_PUT_ATTEMPTS = 3


class UrlSigner:
    """Signs and verifies `(key, expires)` pairs with HMAC-SHA256.

    `keys` are signing keys, the first one signs and all verify, so URLs issued just before a key rotation
    stay valid until they expire.
    """

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("a URL signer needs at least one key")
        self._keys = list(keys)

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> UrlSigner:
        """Signing keys derived (HKDF-SHA256, info b"openwa-storage-url") from every envelope key."""
        return cls(envelope.derive_keys(SIGNING_INFO))

    def sign(self, key: str, expires: int) -> str:
        """Hex HMAC-SHA256 over "<key>\\n<expires>" (keys never contain a newline, so this is unambiguous)."""
        return _mac(self._keys[0], key, str(expires))

    def verify(self, key: str, expires: str, signature: str, *, now: float | None = None) -> None:
        """Return if `signature` is ours for (key, expires) and `expires` is not past.

        Raises SignedUrlInvalid for a malformed or foreign signature (checked first, in constant time, so an
        attacker learns nothing about expiry from a forged URL) and SignedUrlExpired once `now` >= `expires`.
        """
        signature = signature.lower()
        if not expires.isascii() or not expires.isdigit() or not _SIGNATURE.fullmatch(signature):
            raise SignedUrlInvalid()
        matches = [hmac.compare_digest(_mac(k, key, expires), signature) for k in self._keys]
        if not any(matches):
            raise SignedUrlInvalid()
        current = time.time() if now is None else now
        if current >= int(expires):
            raise SignedUrlExpired(details={"expiredAt": int(expires)})


def _mac(signing_key: bytes, key: str, expires: str) -> str:
    # surrogatepass: a hostile key from a URL must fail the comparison, not raise UnicodeEncodeError.
    message = f"{key}\n{expires}".encode("utf-8", "surrogatepass")
    return hmac.new(signing_key, message, hashlib.sha256).hexdigest()


class LocalStorage(BlobStorage):
    """Blob storage in a directory. Safe for several threads and processes sharing the same root."""

    def __init__(
        self,
        root: Path,
        *,
        signer: UrlSigner,
        base_url: str,
        default_ttl_seconds: int = 3600,
        breaker: StorageBreaker | None = None,
    ) -> None:
        super().__init__(default_ttl_seconds=default_ttl_seconds, breaker=breaker)
        self.root = root
        self._objects = root / "objects"
        self._meta = root / "meta"
        self._tmp = root / "tmp"
        self._signer = signer
        self._base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings, envelope: Envelope) -> LocalStorage:
        """Root from STORAGE_LOCAL_PATH (default `<data_dir>/storage`); URLs on BASE_URL or 127.0.0.1:PORT."""
        return cls(
            settings.local_storage_root,
            signer=UrlSigner.from_envelope(envelope),
            base_url=settings.base_url or f"http://127.0.0.1:{settings.port}",
            default_ttl_seconds=settings.signed_url_ttl_seconds,
            breaker=breaker_from_settings(settings),
        )

    def verify_signed_request(self, key: str, expires: str, signature: str, now: float | None = None) -> None:
        """Check the `expires` and `signature` query parameters of a URL made by `signed_url` for `key`.

        Raises SignedUrlInvalid or SignedUrlExpired (both 403). It does not check that the object exists.
        """
        self._signer.verify(key, expires, signature, now=now)

    def check(self) -> None:
        """Create the tree if needed and write, then remove, a probe file; StorageUnavailable on failure."""
        try:
            for directory in (self._objects, self._meta, self._tmp):
                directory.mkdir(parents=True, exist_ok=True)
            probe = self._tmp / f"probe-{secrets.token_hex(8)}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise _unavailable("check", exc) from exc
        self.breaker.recovered()

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        with self._translated(key, "put"):
            self._write_atomically(self._object_path(key), data)
            meta = self._meta_path(key)
            if content_type == DEFAULT_CONTENT_TYPE:
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    meta.unlink()
            else:
                self._write_atomically(meta, json.dumps({"contentType": content_type}).encode())

    def _get(self, key: str) -> bytes:
        try:
            return self._object_path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            self._raise_if_root_broken("get", exc)
            raise BlobNotFound(details={"key": key}) from exc
        except OSError as exc:
            raise _unavailable("get", exc) from exc

    def _head(self, key: str) -> BlobInfo | None:
        try:
            info = self._object_path(key).stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            self._raise_if_root_broken("head", exc)
            return None
        except OSError as exc:
            raise _unavailable("head", exc) from exc
        if not stat.S_ISREG(info.st_mode):
            return None
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        return BlobInfo(key, info.st_size, self._content_type(key), modified)

    def _delete(self, key: str) -> None:
        with self._translated(key, "delete"):
            for path, tree in ((self._object_path(key), self._objects), (self._meta_path(key), self._meta)):
                with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    path.unlink()
                    _prune_empty_parents(path, tree)

    def _delete_prefix(self, prefix: str) -> int:
        # Collect first: removing files (and pruning directories) under a live scandir is not portable.
        keys = list(self._list_keys(prefix))
        for key in keys:
            self._delete(key)
        return len(keys)

    def _list_keys(self, prefix: str) -> Iterator[str]:
        directory, _, partial = prefix.rpartition("/")
        base = self._objects.joinpath(*directory.split("/")) if directory else self._objects
        return self._walk(base, f"{directory}/" if directory else "", partial)

    def _walk(self, directory: Path | str, key_prefix: str, name_filter: str) -> Iterator[str]:
        try:
            with os.scandir(directory) as scan:
                entries = [entry for entry in scan if entry.name.startswith(name_filter)]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise _unavailable("list", exc) from exc
        # Sorting directories as "name/" yields keys in plain string order, the order S3 lists them in.
        entries.sort(
            key=lambda entry: entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name
        )
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(entry.path, f"{key_prefix}{entry.name}/", "")
            elif entry.is_file(follow_symlinks=False):
                yield key_prefix + entry.name

    def _signed_url(self, key: str, expires_in: int) -> str:
        expires = int(time.time()) + expires_in
        query = urlencode({"expires": expires, "signature": self._signer.sign(key, expires)})
        return f"{self._base_url}/api/storage/{quote(key, safe='/')}?{query}"

    def _raise_if_root_broken(self, operation: str, exc: OSError) -> None:
        """A missing path means "no such object", unless the root itself sits under a regular file."""
        if isinstance(exc, NotADirectoryError) and not self._objects.is_dir():
            raise _unavailable(operation, exc) from exc

    @contextlib.contextmanager
    def _translated(self, key: str, operation: str) -> Iterator[None]:
        """Turn OSError into domain errors: path clashes and over-long names are the key's fault."""
        try:
            yield
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            if not (self._objects.is_dir() and self._tmp.is_dir()):
                raise _unavailable(operation, exc) from exc  # the root itself is broken, not the key
            # e.g. "a/b" when "a" is an object: S3 allows both, a filesystem cannot.
            raise InvalidBlobKey("Storage key clashes with an existing key", details={"key": key}) from exc
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise InvalidBlobKey("Storage key has a segment too long", details={"key": key}) from exc
            raise _unavailable(operation, exc) from exc

    def _object_path(self, key: str) -> Path:
        # Safe only because BlobStorage validated `key`: no '..', no absolute path, no backslash.
        return self._objects.joinpath(*key.split("/"))

    def _meta_path(self, key: str) -> Path:
        path = self._meta.joinpath(*key.split("/"))
        return path.with_name(f"{path.name}.json")

    def _content_type(self, key: str) -> str:
        try:
            value = json.loads(self._meta_path(key).read_bytes()).get("contentType")
        except (OSError, ValueError, AttributeError):
            return DEFAULT_CONTENT_TYPE
        return value if isinstance(value, str) and value else DEFAULT_CONTENT_TYPE

    def _write_atomically(self, path: Path, data: bytes) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)
        temporary = self._tmp / f"{secrets.token_hex(12)}.tmp"
        try:
            with open(temporary, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            for attempt in range(_PUT_ATTEMPTS):
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(temporary, path)
                    break
                except FileNotFoundError:
                    # A concurrent delete pruned the parent we just made (it was empty); make it again.
                    if attempt == _PUT_ATTEMPTS - 1:
                        raise
            _fsync_directory(path.parent)  # make the rename itself durable
        finally:
            temporary.unlink(missing_ok=True)


def _unavailable(operation: str, exc: OSError) -> StorageUnavailable:
    reason = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return StorageUnavailable(details={"backend": "local", "operation": operation, "reason": reason})


def _prune_empty_parents(path: Path, tree: Path) -> None:
    """Remove now-empty directories above `path`, stopping at `tree` or at the first non-empty one."""
    parent = path.parent
    while parent != tree and parent.is_relative_to(tree):
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
