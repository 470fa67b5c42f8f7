"""The runner's encrypted auth snapshots, on both storage backends (local files and S3 via moto)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.config import Settings
from functions.core.enums import DesiredState
from functions.core.models import Session
from functions.crypto.envelope import envelope_from_settings
from functions.storage import BlobStorage, build_storage
from functions.storage.base import BlobInfo
from functions.storage.manifests import Manifest, write_manifest
from runner.auth_store import AuthStore

IDB = "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb"
FILES = {
    f"{IDB}/000003.log": b"wawc_db_enc: a key",
    f"{IDB}/CURRENT": b"MANIFEST-000001\n",
    f"{IDB}/MANIFEST-000001": b"leveldb manifest",
    "Default/Local Storage/leveldb/000003.log": b"WebEncKeySalt=pepper",
    "Default/Local Storage/leveldb/CURRENT": b"MANIFEST-000001\n",  # same bytes: stored once
}
S3_CREDENTIALS = {"s3_access_key_id": "test", "s3_secret_access_key": "test"}


class CountingStorage(BlobStorage):
    """A real backend with a tally of the objects written through it (for "uploads only what changed")."""

    def __init__(self, inner: BlobStorage) -> None:
        super().__init__(default_ttl_seconds=inner.default_ttl_seconds)
        self.inner = inner
        self.puts: list[str] = []

    def check(self) -> None:
        self.inner.check()

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts.append(key)
        self.inner.put(key, data, content_type=content_type)

    def _get(self, key: str) -> bytes:
        return self.inner.get(key)

    def _head(self, key: str) -> BlobInfo | None:
        return self.inner.head(key)

    def _delete(self, key: str) -> None:
        self.inner.delete(key)

    def _delete_prefix(self, prefix: str) -> int:
        return self.inner.delete_prefix(prefix)

    def _list_keys(self, prefix: str) -> Iterator[str]:
        return self.inner.list_keys(prefix)

    def _signed_url(self, key: str, expires_in: int) -> str:
        return self.inner.signed_url(key, expires_in=expires_in)

    def uploads_during(self, action: Callable[[], Any]) -> list[str]:
        """The file objects `action` wrote (the manifest is written on every save)."""
        self.puts.clear()
        action()
        return [key for key in self.puts if "/files/" in key]


@pytest.fixture(params=["local", "s3"])
def parts(
    request: pytest.FixtureRequest, settings_factory: Callable[..., Settings]
) -> tuple[AuthStore, CountingStorage]:
    overrides: dict[str, Any] = {}
    if request.param == "s3":  # looked up lazily: the local half never starts the S3 server
        overrides = {
            "storage_type": "s3",
            "s3_endpoint": request.getfixturevalue("s3_endpoint"),
            **S3_CREDENTIALS,
        }
    settings = settings_factory(**overrides)
    storage = CountingStorage(build_storage(settings))
    return AuthStore(storage, envelope_from_settings(settings)), storage


def object_of(content: bytes, session_id: str = "s1") -> str:
    return f"auth/{session_id}/files/{hashlib.sha256(content).hexdigest()}.bin"


def test_a_saved_snapshot_loads_back_and_is_encrypted_at_rest(
    parts: tuple[AuthStore, CountingStorage],
) -> None:
    auth, storage = parts
    manifest = auth.save("s1", FILES)
    assert auth.load("s1") == FILES
    assert manifest.files is not None
    assert manifest.files[f"{IDB}/CURRENT"] == {
        "sha256": hashlib.sha256(b"MANIFEST-000001\n").hexdigest(),
        "size": 16,
    }
    objects = sorted({object_of(content) for content in FILES.values()})
    assert sorted(storage.list_keys("auth/s1/")) == sorted([*objects, "auth/s1/manifest.json"])
    assert len(objects) == 4
    for key in objects:
        assert b"wawc" not in storage.get(key)
        assert b"pepper" not in storage.get(key)


def test_a_second_save_uploads_only_the_file_that_changed_and_drops_the_old_object(
    parts: tuple[AuthStore, CountingStorage],
) -> None:
    auth, storage = parts
    auth.save("s1", FILES)
    changed = {**FILES, f"{IDB}/000003.log": b"wawc_db_enc: a key, and more"}

    assert storage.uploads_during(lambda: auth.save("s1", changed)) == [
        object_of(changed[f"{IDB}/000003.log"])
    ]
    assert auth.load("s1") == changed
    assert object_of(FILES[f"{IDB}/000003.log"]) not in set(storage.list_keys("auth/s1/"))


def test_an_unchanged_snapshot_uploads_nothing(parts: tuple[AuthStore, CountingStorage]) -> None:
    auth, storage = parts
    first = auth.save("s1", FILES)
    before = sorted(storage.list_keys("auth/s1/"))

    assert storage.uploads_during(lambda: auth.save("s1", dict(FILES))) == []
    second = auth.manifest("s1")
    assert second is not None
    assert second.sha256 == first.sha256
    assert sorted(storage.list_keys("auth/s1/")) == before


def test_an_empty_snapshot_is_refused_and_the_stored_one_kept(
    parts: tuple[AuthStore, CountingStorage],
) -> None:
    auth, _ = parts
    auth.save("s1", FILES)
    with pytest.raises(ValueError, match="empty"):
        auth.save("s1", {})
    assert auth.load("s1") == FILES


def test_a_snapshot_with_an_object_missing_or_swapped_loads_as_absent(
    parts: tuple[AuthStore, CountingStorage],
) -> None:
    auth, storage = parts
    auth.save("s1", FILES)
    salt, key = (
        object_of(FILES["Default/Local Storage/leveldb/000003.log"]),
        object_of(FILES[f"{IDB}/000003.log"]),
    )
    sealed_salt = storage.get(salt)
    storage.put(salt, storage.get(key))  # same session, wrong content: the digest check refuses it
    assert auth.load("s1") is None
    storage.delete(salt)
    assert auth.load("s1") is None
    storage.put(salt, sealed_salt)
    assert auth.load("s1") == FILES


def test_a_snapshot_moved_to_another_session_does_not_open(parts: tuple[AuthStore, CountingStorage]) -> None:
    auth, storage = parts
    auth.save("s1", FILES)
    auth.save("s2", {"Default/Local Storage/leveldb/CURRENT": b"other"})
    for content in FILES.values():
        storage.put(object_of(content, "s2"), storage.get(object_of(content)))
    target = auth.manifest("s1")
    assert target is not None
    write_manifest(storage, "s2", target)
    assert auth.load("s2") is None


def test_a_snapshot_of_the_storage_state_format_loads_as_absent_and_is_replaced(
    parts: tuple[AuthStore, CountingStorage],
) -> None:
    # Before profiles, a snapshot was Playwright's storage_state JSON in one object; it cannot bring back
    # WhatsApp's CryptoKey (Playwright #35946), so it counts as no credentials: one new QR.
    auth, storage = parts
    storage.put("auth/s1/state-1.bin", b"sealed storage_state")
    old = Manifest("auth/s1/state-1.bin", "ab" * 32, 20, 1, "playwright-storage-state+indexeddb+gzip")
    write_manifest(storage, "s1", old)
    assert auth.load("s1") is None

    auth.save("s1", FILES)
    assert auth.load("s1") == FILES
    assert "auth/s1/state-1.bin" not in set(storage.list_keys("auth/s1/"))


def test_wipe_removes_everything_and_a_wiped_session_has_no_credentials(
    parts: tuple[AuthStore, CountingStorage],
) -> None:
    auth, storage = parts
    auth.save("s1", FILES)
    assert auth.wipe("s1") == 5  # four distinct contents and the manifest
    assert auth.load("s1") is None
    assert list(storage.list_keys("auth/")) == []


def test_a_snapshot_carries_the_session_mirror_and_a_wipe_keeps_it_wanted_stopped(
    parts: tuple[AuthStore, CountingStorage],
) -> None:
    auth, storage = parts
    created = datetime(2026, 11, 25, 10, 0, 0, 123000, tzinfo=UTC)
    session = Session("s1", "alice", created, created, desired_state=DesiredState.RUNNING)
    mirror = {
        "id": "s1",
        "name": "alice",
        "createdAt": "2026-11-25T10:00:00.123Z",
        "config": {"autoRejectCalls": False, "maxReconnectAttempts": None, "reconnectBaseDelay": 5000},
        "proxyUrlEncrypted": None,
        "proxyType": None,
        "desiredState": "running",
    }
    auth.save("s1", FILES, session=session)
    auth.save(
        "s1", {**FILES, "Default/Local Storage/leveldb/000004.log": b"new"}
    )  # keeps the mirror it finds
    manifest = auth.manifest("s1")
    assert manifest is not None
    assert manifest.session == mirror

    auth.wipe("s1")
    assert auth.load("s1") is None
    assert list(storage.list_keys("auth/")) == ["auth/s1/manifest.json"]
    left = auth.manifest("s1")
    assert left is not None
    assert left.state_key is None
    assert left.files is None
    assert left.session == {**mirror, "desiredState": "stopped"}
