"""A session's WhatsApp credentials in blob storage: encrypted, at `auth/<sessionId>/`, with a manifest.

A snapshot is a file map (relative path -> bytes): the browser profile's login files from
`runner.engines.webjs.profile.archive`. Playwright's `storage_state` cannot carry WhatsApp Web's login, whose
local key is a non-extractable CryptoKey in IndexedDB (https://github.com/microsoft/playwright/issues/35946).

Layout:
- `auth/<id>/files/<sha256>.bin`: one object per distinct file content, named by the SHA-256 of the plain
  bytes, gzipped and sealed with AES-256-GCM under the context `session:<id>` (so an object only opens for its
  own session). Content addressing makes a snapshot incremental: LevelDB writes new files and leaves old
  ones alone, so a save uploads only the contents not stored yet. The names reveal digests of the plain
  files, never their bytes.
- `auth/<id>/manifest.json` (`functions.storage.manifests`): `files` maps each path to its digest and size;
  `state_key` is the `files/` prefix, `sha256` a digest of the whole map; it also carries the session's
  mirror for `openwa recover`.

A save uploads the missing objects, then writes the manifest, then deletes the objects no manifest names:
a reader sees the old snapshot or the new one, never half of one. One writer at a time is assumed (the
lease holder; see `functions.storage.manifests`). Wiping (logout) deletes the credentials but keeps the
mirror, with desired state `stopped`.

Snapshots of the previous format (Playwright `storage_state` JSON in `state-<n>.bin`) load as absent: they
cannot restore a real WhatsApp login anyway (see above), so a session that had one shows a QR once; its
object is deleted at the next save or wipe.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from functions.core.enums import DesiredState
from functions.core.errors import BlobNotFound, DecryptionFailed
from functions.core.models import Session
from functions.crypto.envelope import Envelope
from functions.storage.base import BlobStorage
from functions.storage.manifests import Manifest, mirror_of, read_manifest, write_manifest

__all__ = ["FORMAT", "AuthStore", "Manifest"]

FORMAT = "profile-files+gzip"
TRANSFER_THREADS = 8  # objects are small and many; S3 round trips, not bandwidth, bound a save or a load
_T = TypeVar("_T")
_R = TypeVar("_R")


class AuthStore:
    """Save, load and wipe one session's credentials."""

    def __init__(self, storage: BlobStorage, envelope: Envelope) -> None:
        self._storage = storage
        self._envelope = envelope

    @staticmethod
    def prefix(session_id: str) -> str:
        return f"auth/{session_id}/"

    @classmethod
    def files_prefix(cls, session_id: str) -> str:
        return f"{cls.prefix(session_id)}files/"

    def save(
        self, session_id: str, files: Mapping[str, bytes], *, session: Session | None = None
    ) -> Manifest:
        """Store `files` as the session's current credentials, and `session` as its mirror (without it, the
        mirror already stored is kept); returns the new manifest. Uploads only contents not stored yet.
        Raises ValueError for an empty map: it holds no login, and must not replace one that does."""
        if not files:
            raise ValueError("an empty snapshot holds no credentials")
        previous = self.manifest(session_id)
        digests = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
        stored = set(self._storage.list_keys(self.files_prefix(session_id)))
        contents = {self._key(session_id, digests[path]): data for path, data in files.items()}
        missing = {key: data for key, data in contents.items() if key not in stored}
        context = self._context(session_id)
        _parallel(lambda item: self._storage.put(item[0], self._seal(item[1], context)), missing.items())
        manifest = Manifest(
            state_key=self.files_prefix(session_id),
            sha256=_map_digest(digests),
            size=sum(len(data) for data in files.values()),
            created_ms=int(time.time() * 1000),
            format=FORMAT,
            session=mirror_of(session) if session is not None else previous.session if previous else None,
            files={path: {"sha256": digests[path], "size": len(files[path])} for path in sorted(files)},
        )
        write_manifest(self._storage, session_id, manifest)
        referenced = {self._key(session_id, digest) for digest in digests.values()}
        stale = stored - referenced
        if previous is not None and previous.format != FORMAT and previous.state_key is not None:
            stale.add(previous.state_key)  # the single object of an older format
        _parallel(self._storage.delete, sorted(stale))
        return manifest

    def manifest(self, session_id: str) -> Manifest | None:
        return read_manifest(self._storage, session_id)

    def load(self, session_id: str) -> dict[str, bytes] | None:
        """The current credentials as the file map that was saved, or None when there are none: never linked,
        logged out, an older format, or unreadable (an object missing, not decrypting, or not matching its
        digest), all of which mean a new QR. Storage that cannot answer raises (StorageUnavailable)."""
        manifest = self.manifest(session_id)
        if manifest is None or manifest.format != FORMAT or manifest.files is None:
            return None
        try:
            wanted = {
                path: (str(entry["sha256"]), int(entry["size"])) for path, entry in manifest.files.items()
            }
        except (KeyError, TypeError, ValueError):
            return None
        context = self._context(session_id)

        def fetch(digest: str) -> tuple[str, bytes | None]:
            return digest, self._open(self._key(session_id, digest), digest, context)

        contents = dict(_parallel(fetch, sorted({digest for digest, _ in wanted.values()})))
        files = {}
        for path, (digest, size) in wanted.items():
            data = contents[digest]
            if data is None or len(data) != size:
                return None
            files[path] = data
        return files

    def wipe(self, session_id: str) -> int:
        """Delete every stored credential object of the session; returns how many objects were deleted.

        A mirror in the manifest is written back alone, wanted stopped (a logged-out session is not started
        again by itself), so the session can still be recovered, needing a new QR."""
        previous = self.manifest(session_id)
        removed = self._storage.delete_prefix(self.prefix(session_id))
        if previous is not None and previous.session is not None:
            mirror = {**previous.session, "desiredState": DesiredState.STOPPED.value}
            write_manifest(self._storage, session_id, Manifest(session=mirror))
        return removed

    def _seal(self, data: bytes, context: bytes) -> bytes:
        return self._envelope.encrypt(gzip.compress(data, compresslevel=6, mtime=0), context=context)

    def _open(self, key: str, digest: str, context: bytes) -> bytes | None:
        """The plain bytes of one object, or None when it is missing, does not open or is not `digest`."""
        try:
            data = gzip.decompress(self._envelope.decrypt(self._storage.get(key), context=context))
        except (BlobNotFound, DecryptionFailed, OSError, EOFError, zlib.error):
            return None
        return data if hashlib.sha256(data).hexdigest() == digest else None

    def _key(self, session_id: str, digest: str) -> str:
        return f"{self.files_prefix(session_id)}{digest}.bin"

    @staticmethod
    def _context(session_id: str) -> bytes:
        return f"session:{session_id}".encode()


def _map_digest(digests: Mapping[str, str]) -> str:
    """One digest for the whole snapshot: equal exactly when every path has the same content."""
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def _parallel(work: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
    """`work` over `items` on a few threads (the storage backends are thread-safe); errors propagate."""
    batch = list(items)
    if len(batch) <= 1:
        return [work(item) for item in batch]
    with ThreadPoolExecutor(max_workers=TRANSFER_THREADS, thread_name_prefix="auth-store") as pool:
        return list(pool.map(work, batch))
