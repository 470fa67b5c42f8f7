"""A session's WhatsApp credentials in blob storage: encrypted, at `auth/<sessionId>/`, with a manifest.

Layout: `auth/<id>/state-<n>.bin` holds the browser storage (Playwright `storage_state(indexed_db=True)`,
JSON) sealed with AES-256-GCM under the context `session:<id>`, so a blob only opens for its own session;
`auth/<id>/manifest.json` names the current state object, its SHA-256 and size. A new snapshot is written
under a new name before the manifest moves to it, so a reader never sees a half-written state; the old
object is deleted afterwards.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from functions.core.errors import BlobNotFound, DecryptionFailed
from functions.crypto.envelope import Envelope
from functions.storage.base import BlobStorage

FORMAT = "playwright-storage-state+indexeddb"


@dataclass(frozen=True)
class Manifest:
    state_key: str
    sha256: str
    size: int
    created_ms: int
    format: str = FORMAT


class AuthStore:
    """Save, load and wipe one session's credentials."""

    def __init__(self, storage: BlobStorage, envelope: Envelope) -> None:
        self._storage = storage
        self._envelope = envelope

    @staticmethod
    def prefix(session_id: str) -> str:
        return f"auth/{session_id}/"

    def save(self, session_id: str, state: bytes) -> Manifest:
        """Store `state` as the session's current credentials; returns the new manifest."""
        previous = self.manifest(session_id)
        created_ms = int(time.time() * 1000)
        key = f"{self.prefix(session_id)}state-{created_ms}.bin"
        sealed = self._envelope.encrypt(state, context=self._context(session_id))
        self._storage.put(key, sealed)
        manifest = Manifest(key, hashlib.sha256(state).hexdigest(), len(state), created_ms)
        body = json.dumps(manifest.__dict__).encode()
        self._storage.put(f"{self.prefix(session_id)}manifest.json", body, content_type="application/json")
        if previous is not None and previous.state_key != key:
            self._storage.delete(previous.state_key)
        return manifest

    def manifest(self, session_id: str) -> Manifest | None:
        try:
            raw = self._storage.get(f"{self.prefix(session_id)}manifest.json")
        except BlobNotFound:
            return None
        return Manifest(**json.loads(raw))

    def load(self, session_id: str) -> bytes | None:
        """The current credentials, or None when there are none (never linked, logged out, or unreadable:
        a state that does not decrypt or match its digest is treated as absent, which means a new QR)."""
        manifest = self.manifest(session_id)
        if manifest is None:
            return None
        try:
            state = self._envelope.decrypt(
                self._storage.get(manifest.state_key), context=self._context(session_id)
            )
        except (BlobNotFound, DecryptionFailed):
            return None
        return state if hashlib.sha256(state).hexdigest() == manifest.sha256 else None

    def wipe(self, session_id: str) -> int:
        """Delete every stored credential object of the session; returns how many."""
        return self._storage.delete_prefix(self.prefix(session_id))

    @staticmethod
    def _context(session_id: str) -> bytes:
        return f"session:{session_id}".encode()
