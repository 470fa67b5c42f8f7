"""One contract, two backends: every test here runs against the local filesystem and a real S3 server (moto).

Backend-specific behaviour (bucket region, DeleteObjects batching, filesystem path clashes) comes at the end.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest

from functions.config import Settings
from functions.core.errors import (
    BlobNotFound,
    InvalidBlobKey,
    SignedUrlExpired,
    StorageUnavailable,
    ValidationFailed,
)
from functions.storage import BlobStorage, LocalStorage, S3Storage, build_storage

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

SettingsFactory = Callable[..., Settings]
S3_CREDENTIALS = {"s3_access_key_id": "test", "s3_secret_access_key": "test"}

BAD_KEYS = [
    "",
    "/etc/passwd",
    "auth/../../etc/passwd",
    "..",
    "./media/x",
    "media//x",
    "media/x/",
    "media\\x",
    "media/x\nEvil: header",
    "media/\x00x",
    "media/\x7f",
    "k" * 1025,
    "é" * 513,  # 513 characters, 1026 UTF-8 bytes
]

KEY_OPERATIONS: dict[str, Callable[[BlobStorage, str], object]] = {
    "put": lambda storage, key: storage.put(key, b"x"),
    "get": BlobStorage.get,
    "head": BlobStorage.head,
    "delete": BlobStorage.delete,
    "signed_url": BlobStorage.signed_url,
}


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def s3_settings(settings_factory: SettingsFactory, endpoint: str, **overrides: Any) -> Settings:
    return settings_factory(storage_type="s3", s3_endpoint=endpoint, **S3_CREDENTIALS, **overrides)


@pytest.fixture
def storage(backend: str, settings_factory: SettingsFactory, request: pytest.FixtureRequest) -> BlobStorage:
    if backend == "local":
        return build_storage(settings_factory())
    # Looked up lazily so that the local half of the suite never starts the S3 server.
    return build_storage(s3_settings(settings_factory, request.getfixturevalue("s3_endpoint")))


@pytest.fixture
def unreachable_storage(
    backend: str, settings_factory: SettingsFactory, tmp_path: Path, closed_port: int
) -> BlobStorage:
    """A store that cannot work: S3 on a closed port, or a local root beneath a regular file."""
    if backend == "local":
        blocker = tmp_path / "not-a-directory"
        blocker.write_bytes(b"")
        return build_storage(settings_factory(storage_local_path=blocker / "storage"))
    return build_storage(s3_settings(settings_factory, f"http://127.0.0.1:{closed_port}"))


def fetch_signed(storage: BlobStorage, url: str) -> bytes:
    """GET a signed URL. S3 over real HTTP; local through the checks the gateway's route makes."""
    if isinstance(storage, S3Storage):
        # Plain HTTP with no AWS client or credentials: exactly what a WhatsApp client fetching media does.
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http URL we just presigned)
            body: bytes = response.read()
            return body
    assert isinstance(storage, LocalStorage)
    parts = urlsplit(url)
    assert parts.path.startswith("/api/storage/")
    key = unquote(parts.path.removeprefix("/api/storage/"))
    query = parse_qs(parts.query)
    storage.verify_signed_request(key, query["expires"][0], query["signature"][0])
    return storage.get(key)


def test_put_then_get_returns_the_same_bytes(storage: BlobStorage) -> None:
    data = bytes(range(256)) * 64
    storage.put("auth/s1/state.bin", data)
    assert storage.get("auth/s1/state.bin") == data


def test_put_replaces_the_object_and_its_content_type(storage: BlobStorage) -> None:
    storage.put("media/s1/m1", b"first", content_type="image/png")
    storage.put("media/s1/m1", b"second")
    assert storage.get("media/s1/m1") == b"second"
    info = storage.head("media/s1/m1")
    assert info is not None
    assert info.content_type == "application/octet-stream"


def test_head_reports_size_content_type_and_modified_time(storage: BlobStorage) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    storage.put("media/s1/photo", b"\x89PNG....", content_type="image/png")
    info = storage.head("media/s1/photo")
    assert info is not None
    assert (info.key, info.size, info.content_type) == ("media/s1/photo", 8, "image/png")
    assert before <= info.modified <= datetime.now(UTC) + timedelta(seconds=2)


def test_head_of_a_missing_key_is_none(storage: BlobStorage) -> None:
    assert storage.head("media/s1/nothing") is None


def test_get_of_a_missing_key_is_blob_not_found(storage: BlobStorage) -> None:
    with pytest.raises(BlobNotFound) as caught:
        storage.get("media/s1/nothing")
    assert caught.value.details == {"key": "media/s1/nothing"}


def test_delete_removes_the_object_and_is_idempotent(storage: BlobStorage) -> None:
    storage.put("exports/e1.json", b"{}")
    storage.delete("exports/e1.json")
    storage.delete("exports/e1.json")
    storage.delete("exports/never-existed")
    assert storage.head("exports/e1.json") is None


def test_list_keys_yields_keys_under_a_prefix_in_order(storage: BlobStorage) -> None:
    for key in ["media/s1/b", "media/s1/a", "media/s1/ab/x", "media/s1-b", "media/s10/c", "auth/s1/state"]:
        storage.put(key, b".")
    assert list(storage.list_keys("media/s1/")) == ["media/s1/a", "media/s1/ab/x", "media/s1/b"]
    # A prefix is a string prefix, not a directory: "media/s1" also matches "media/s1-b" and "media/s10".
    assert list(storage.list_keys("media/s1")) == [
        "media/s1-b",
        "media/s1/a",
        "media/s1/ab/x",
        "media/s1/b",
        "media/s10/c",
    ]
    assert list(storage.list_keys("nothing/")) == []
    assert len(list(storage.list_keys())) == 6


def test_delete_prefix_removes_only_matching_keys_and_counts_them(storage: BlobStorage) -> None:
    for key in ["media/s1/a", "media/s1/deep/b", "media/s10/c", "auth/s1/state"]:
        storage.put(key, b".")
    assert storage.delete_prefix("media/s1/") == 2
    assert list(storage.list_keys()) == ["auth/s1/state", "media/s10/c"]
    assert storage.delete_prefix("media/s1/") == 0


def test_delete_prefix_refuses_to_wipe_everything(storage: BlobStorage) -> None:
    storage.put("auth/s1/state", b".")
    with pytest.raises(InvalidBlobKey):
        storage.delete_prefix("")
    assert storage.get("auth/s1/state") == b"."


def test_unsafe_keys_are_refused_by_every_operation(storage: BlobStorage) -> None:
    accepted = []
    for key in BAD_KEYS:
        for name, operation in KEY_OPERATIONS.items():
            try:
                operation(storage, key)
            except InvalidBlobKey:
                continue
            accepted.append((name, key))
    assert accepted == []
    assert list(storage.list_keys()) == []


def test_prefixes_cannot_climb_out_either(storage: BlobStorage) -> None:
    for prefix in ["../", "/abs", "media/../", "media//"]:
        with pytest.raises(InvalidBlobKey):
            list(storage.list_keys(prefix))
        with pytest.raises(InvalidBlobKey):
            storage.delete_prefix(prefix)


def test_signed_url_serves_the_object(storage: BlobStorage) -> None:
    storage.put("media/s1/voice note.ogg", b"OggS-audio", content_type="audio/ogg")
    url = storage.signed_url("media/s1/voice note.ogg", expires_in=60)
    assert fetch_signed(storage, url) == b"OggS-audio"


def test_signed_url_stops_working_after_its_lifetime(storage: BlobStorage) -> None:
    storage.put("media/s1/m1", b"short-lived")
    signed_at = time.time()
    url = storage.signed_url("media/s1/m1", expires_in=2)
    assert fetch_signed(storage, url) == b"short-lived"
    if isinstance(storage, S3Storage):
        # S3 itself refuses the URL once X-Amz-Date + X-Amz-Expires is past; moto does not enforce that
        # (it still serves the URL after its lifetime), so check the two signed inputs S3 decides by.
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Expires"] == ["2"]
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert abs(signed.timestamp() - signed_at) < 2
        return
    time.sleep(
        max(0.0, signed_at + 3 - time.time())
    )  # whole seconds: expiry lands within (1, 2] s of signing
    with pytest.raises(SignedUrlExpired):
        fetch_signed(storage, url)
    # Only the URL expired; the object did not.
    assert fetch_signed(storage, storage.signed_url("media/s1/m1", expires_in=60)) == b"short-lived"


def test_signed_url_lifetime_must_be_between_a_second_and_a_week(storage: BlobStorage) -> None:
    for lifetime in [0, -5, 7 * 24 * 3600 + 1]:
        with pytest.raises(ValidationFailed):
            storage.signed_url("media/s1/m1", expires_in=lifetime)
    assert storage.signed_url("media/s1/m1", expires_in=7 * 24 * 3600)


def test_first_use_creates_the_store(storage: BlobStorage) -> None:
    # Fresh tmp dir / freshly reset S3 server: nothing exists until the first write.
    storage.put("auth/s1/state.bin", b"state")
    assert storage.get("auth/s1/state.bin") == b"state"
    storage.check()


def test_check_passes_on_a_healthy_store(storage: BlobStorage) -> None:
    storage.check()


def test_an_unreachable_store_fails_fast_as_storage_unavailable(unreachable_storage: BlobStorage) -> None:
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        unreachable_storage.check()
    with pytest.raises(StorageUnavailable):
        unreachable_storage.put("auth/s1/state.bin", b"state")
    with pytest.raises(StorageUnavailable):
        unreachable_storage.get("auth/s1/state.bin")
    assert time.monotonic() - started < 5


# --- S3 only ---------------------------------------------------------------------------------------------


def raw_client(endpoint: str) -> S3Client:
    """A plain boto3 client, to look at the server without going through our backend."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_s3_bucket_is_created_in_the_configured_region(
    settings_factory: SettingsFactory, s3_endpoint: str
) -> None:
    settings = s3_settings(settings_factory, s3_endpoint, s3_bucket="eu-media", s3_region="eu-west-1")
    build_storage(settings).put("media/s1/m1", b"x")
    assert raw_client(s3_endpoint).get_bucket_location(Bucket="eu-media")["LocationConstraint"] == "eu-west-1"


def test_s3_uses_a_bucket_that_already_exists(settings_factory: SettingsFactory, s3_endpoint: str) -> None:
    settings = s3_settings(settings_factory, s3_endpoint)
    first, second = build_storage(settings), build_storage(settings)
    first.put("auth/s1/state", b"one")
    second.put("auth/s2/state", b"two")  # its own first use finds the bucket there
    assert list(first.list_keys("auth/")) == ["auth/s1/state", "auth/s2/state"]


def test_s3_delete_prefix_pages_through_listings_and_batches(
    settings_factory: SettingsFactory, s3_endpoint: str
) -> None:
    # A batch of 10 exercises the same paging as S3's 1000 without writing thousands of objects.
    small_batches = S3Storage("paged", client=raw_client(s3_endpoint), batch_size=10)
    for index in range(25):
        small_batches.put(f"media/s1/{index:03d}", b".")
    small_batches.put("media/s2/keep", b".")
    assert small_batches.delete_prefix("media/s1/") == 25
    assert list(small_batches.list_keys("media/")) == ["media/s2/keep"]


# --- local filesystem only ----------------------------------------------------------------------------


def test_local_key_that_clashes_with_a_directory_is_invalid(settings_factory: SettingsFactory) -> None:
    storage = build_storage(settings_factory())
    storage.put("media/s1/a/b", b".")
    with pytest.raises(InvalidBlobKey):
        storage.put("media/s1/a", b".")  # S3 allows both keys; a filesystem cannot hold them
    with pytest.raises(InvalidBlobKey):
        storage.put("media/s1/a/b/c", b".")
    assert storage.head("media/s1/a") is None


def test_local_writes_leave_no_temporary_files_and_deletes_prune_directories(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory()
    storage = build_storage(settings)
    storage.put("media/s1/m1", b".", content_type="image/png")
    storage.delete("media/s1/m1")
    root = settings.local_storage_root
    assert list((root / "tmp").iterdir()) == []
    assert list((root / "objects").iterdir()) == []
    assert list((root / "meta").iterdir()) == []


def test_local_signed_url_points_at_the_gateway(settings_factory: SettingsFactory) -> None:
    storage = build_storage(settings_factory(base_url="https://wa.example.com/"))
    parts = urlsplit(storage.signed_url("media/s1/a b#c", expires_in=60))
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "wa.example.com",
        "/api/storage/media/s1/a%20b%23c",
    )
    expires = int(parse_qs(parts.query)["expires"][0])
    assert 0 < expires - time.time() <= 60
