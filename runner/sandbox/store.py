"""Persistence: the network state as one JSON file, media as content-addressed files.

The state file is rewritten atomically (temp file + rename) by a background flusher at most every
`interval` seconds while something changed, and once more on close, so the sandbox restarts with its phones,
devices and chats. A sandbox is small; a whole-file rewrite is simpler and fast enough.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.sandbox.model import NetworkState


class Store:
    """State and media under `root` (`state.json`, `media/<sha256>`)."""

    def __init__(self, root: Path, *, interval: float = 0.5) -> None:
        self.root = root
        self.media_dir = root / "media"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self._state_file = root / "state.json"
        self._interval = interval
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._snapshot: Callable[[], dict[str, Any]] | None = None
        self._thread: threading.Thread | None = None

    def load(self) -> NetworkState:
        """The saved state, or an empty one when there is none yet."""
        if not self._state_file.exists():
            return NetworkState()
        return NetworkState.from_json(json.loads(self._state_file.read_text("utf-8")))

    def start(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        """Begin flushing `snapshot()` (taken under the caller's lock) whenever `mark_dirty` was called."""
        self._snapshot = snapshot
        self._thread = threading.Thread(target=self._flush_loop, name="sandbox-store", daemon=True)
        self._thread.start()

    def mark_dirty(self) -> None:
        self._dirty.set()

    def close(self) -> None:
        self._closed.set()
        self._dirty.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._flush()

    def put_media(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.media_dir / digest
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return digest

    def get_media(self, digest: str) -> bytes:
        if len(digest) != 64 or not all(ch in "0123456789abcdef" for ch in digest):
            raise KeyError(digest)
        path = self.media_dir / digest
        if not path.exists():
            raise KeyError(digest)
        return path.read_bytes()

    def _flush_loop(self) -> None:
        while not self._closed.is_set():
            self._dirty.wait()
            if self._closed.is_set():
                return
            self._dirty.clear()
            self._flush()
            self._closed.wait(self._interval)

    def _flush(self) -> None:
        if self._snapshot is None:
            return
        data = json.dumps(self._snapshot(), separators=(",", ":"))
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(data, "utf-8")
        os.replace(tmp, self._state_file)
