"""A session's WhatsApp credentials in blob storage: encrypted, at `auth/<sessionId>/`, with a manifest.

Layout: `auth/<id>/state-<n>.bin` holds the browser storage (Playwright `storage_state(indexed_db=True)`,
JSON), gzipped and sealed with AES-256-GCM under the context `session:<id>`, so a blob only opens for its
own session (that format beat a copy of the profile's IndexedDB + Local Storage folders: BENCHMARKS.md);
`auth/<id>/manifest.json` (`functions.storage.manifests`) names the current state object, its SHA-256 and
size, and carries the session's mirror for `openwa recover`. A new snapshot is written under a new name
before the manifest moves to it, so a reader never sees a half-written state; the old object is deleted
afterwards. Wiping (logout) deletes the credentials but keeps the mirror, with desired state `stopped`.
"""

from __future__ import annotations

import gzip
import hashlib
import time

from functions.core.enums import DesiredState
from functions.core.errors import BlobNotFound, DecryptionFailed
from functions.core.models import Session
from functions.crypto.envelope import Envelope
from functions.storage.base import BlobStorage
from functions.storage.manifests import Manifest, mirror_of, read_manifest, write_manifest

__all__ = ["FORMAT", "AuthStore", "Manifest"]

FORMAT = "playwright-storage-state+indexeddb+gzip"
_UNCOMPRESSED_FORMAT = "playwright-storage-state+indexeddb"  # snapshots stored before gzip; still read


class AuthStore:
    """Save, load and wipe one session's credentials."""

    def __init__(self, storage: BlobStorage, envelope: Envelope) -> None:
        self._storage = storage
        self._envelope = envelope

    @staticmethod
    def prefix(session_id: str) -> str:
        return f"auth/{session_id}/"

    def save(self, session_id: str, state: bytes, *, session: Session | None = None) -> Manifest:
        """Store `state` as the session's current credentials, and `session` as its mirror (without it, the
        mirror already stored is kept); returns the new manifest."""
        previous = self.manifest(session_id)
        created_ms = int(time.time() * 1000)
        key = f"{self.prefix(session_id)}state-{created_ms}.bin"
        sealed = self._envelope.encrypt(gzip.compress(state, mtime=0), context=self._context(session_id))
        self._storage.put(key, sealed)
        mirror = mirror_of(session) if session is not None else previous.session if previous else None
        digest = hashlib.sha256(state).hexdigest()
        manifest = Manifest(key, digest, len(state), created_ms, FORMAT, session=mirror)
        write_manifest(self._storage, session_id, manifest)
        if previous is not None and previous.state_key not in {None, key}:
            self._storage.delete(str(previous.state_key))
        return manifest

    def manifest(self, session_id: str) -> Manifest | None:
        return read_manifest(self._storage, session_id)

    def load(self, session_id: str) -> bytes | None:
        """The current credentials, or None when there are none (never linked, logged out, or unreadable:
        a state that does not decrypt or match its digest is treated as absent, which means a new QR)."""
        manifest = self.manifest(session_id)
        if manifest is None or manifest.state_key is None:
            return None
        try:
            state = self._envelope.decrypt(
                self._storage.get(manifest.state_key), context=self._context(session_id)
            )
            if manifest.format != _UNCOMPRESSED_FORMAT:
                state = gzip.decompress(state)
        except (BlobNotFound, DecryptionFailed, OSError, EOFError):
            return None
        return state if hashlib.sha256(state).hexdigest() == manifest.sha256 else None

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

    @staticmethod
    def _context(session_id: str) -> bytes:
        return f"session:{session_id}".encode()
