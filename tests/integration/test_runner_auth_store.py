"""The runner's encrypted auth snapshots, on both storage backends (local files and S3 via moto)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from functions.config import Settings
from functions.core.clock import utcnow
from functions.core.enums import DesiredState
from functions.core.models import Session
from functions.crypto.envelope import envelope_from_settings
from functions.storage import BlobStorage, build_storage
from functions.storage.manifests import mirror_of
from runner.auth_store import AuthStore

STATE = b'{"cookies":[],"origins":[{"origin":"http://wa","indexedDB":[{"name":"wawc"}]}]}'
S3_CREDENTIALS = {"s3_access_key_id": "test", "s3_secret_access_key": "test"}


@pytest.fixture(params=["local", "s3"])
def parts(
    request: pytest.FixtureRequest, settings_factory: Callable[..., Settings]
) -> tuple[AuthStore, BlobStorage]:
    overrides: dict[str, Any] = {}
    if request.param == "s3":  # looked up lazily: the local half never starts the S3 server
        overrides = {
            "storage_type": "s3",
            "s3_endpoint": request.getfixturevalue("s3_endpoint"),
            **S3_CREDENTIALS,
        }
    settings = settings_factory(**overrides)
    storage = build_storage(settings)
    return AuthStore(storage, envelope_from_settings(settings)), storage


def test_a_saved_snapshot_loads_back_and_is_encrypted_at_rest(parts: tuple[AuthStore, BlobStorage]) -> None:
    auth, storage = parts
    manifest = auth.save("s1", STATE)
    assert auth.load("s1") == STATE
    assert b"wawc" not in storage.get(manifest.state_key)
    assert sorted(storage.list_keys("auth/s1/")) == sorted([manifest.state_key, "auth/s1/manifest.json"])


def test_a_new_snapshot_replaces_the_old_object(parts: tuple[AuthStore, BlobStorage]) -> None:
    auth, storage = parts
    first = auth.save("s1", STATE)
    second = auth.save("s1", STATE + b" ")
    assert first.state_key != second.state_key
    assert auth.load("s1") == STATE + b" "
    assert first.state_key not in set(storage.list_keys("auth/s1/"))


def test_a_snapshot_moved_to_another_session_does_not_open(parts: tuple[AuthStore, BlobStorage]) -> None:
    auth, storage = parts
    manifest = auth.save("s1", STATE)
    auth.save("s2", b"other")
    target = auth.manifest("s2")
    assert target is not None
    storage.put(target.state_key, storage.get(manifest.state_key))
    assert auth.load("s2") is None


def test_wipe_removes_everything_and_a_wiped_session_has_no_credentials(
    parts: tuple[AuthStore, BlobStorage],
) -> None:
    auth, storage = parts
    auth.save("s1", STATE)
    assert auth.wipe("s1") == 2
    assert auth.load("s1") is None
    assert list(storage.list_keys("auth/")) == []


def test_a_snapshot_carries_the_session_mirror_and_a_wipe_keeps_it_wanted_stopped(
    parts: tuple[AuthStore, BlobStorage],
) -> None:
    auth, storage = parts
    now = utcnow()
    session = Session("s1", "alice", now, now, desired_state=DesiredState.RUNNING)
    auth.save("s1", STATE, session=session)
    auth.save("s1", STATE + b" ")  # a save without a record keeps the mirror it finds
    manifest = auth.manifest("s1")
    assert manifest is not None
    assert manifest.session == mirror_of(session)

    auth.wipe("s1")
    assert auth.load("s1") is None
    assert list(storage.list_keys("auth/")) == ["auth/s1/manifest.json"]
    left = auth.manifest("s1")
    assert left is not None
    assert left.state_key is None
    assert left.session == {**mirror_of(session), "desiredState": "stopped"}
