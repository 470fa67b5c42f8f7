"""S3 blob storage through boto3: AWS S3, or any S3-compatible server via S3_ENDPOINT (MinIO, R2, rclone).

The bucket is created on first use if it does not exist. Every botocore failure is translated where it
enters: a missing object becomes `BlobNotFound`, everything else `StorageUnavailable` (503). Timeouts and
retries are short on purpose: a dead S3 must fail a call within about 15 s (2 attempts of a 2 s connect and a
5 s read), and the breaker (`breaker.py`) then fails the next ones at once while it is down; `check()` uses
a separate single-attempt client so a health probe answers within about three seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import BlobNotFound, StorageUnavailable
from functions.storage.base import DEFAULT_CONTENT_TYPE, BlobInfo, BlobStorage
from functions.storage.breaker import StorageBreaker, breaker_from_settings

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.literals import BucketLocationConstraintType
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef

    from functions.config import Settings

# Error codes S3 (and S3-compatible servers) use for "no such object"; head_object only has the status.
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_DELETE_BATCH = 1000  # the DeleteObjects limit, and also the largest ListObjectsV2 page


class S3Storage(BlobStorage):
    """Blob storage in one S3 bucket. Thread-safe (boto3 clients are); create one per process."""

    def __init__(
        self,
        bucket: str,
        *,
        client: S3Client,
        probe_client: S3Client | None = None,
        region: str = "us-east-1",
        default_ttl_seconds: int = 3600,
        batch_size: int = _DELETE_BATCH,
        breaker: StorageBreaker | None = None,
    ) -> None:
        """`batch_size` (1-1000) is the listing page and DeleteObjects batch of `delete_prefix`."""
        super().__init__(default_ttl_seconds=default_ttl_seconds, breaker=breaker)
        if not 1 <= batch_size <= _DELETE_BATCH:
            raise ValueError(f"batch_size must be 1-{_DELETE_BATCH}")
        self.bucket = bucket
        self._batch_size = batch_size
        self._client = client
        self._probe = probe_client or client
        self._region = region
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        """Clients for S3_ENDPOINT (path-style when set) in S3_REGION; credentials from S3_ACCESS_KEY_ID and
        S3_SECRET_ACCESS_KEY when given, else boto3's default chain (environment, profile, instance role)."""
        # One private session for both clients: the second then reuses the loaded service model, and the
        # process-wide default session is not safe to create clients from concurrently.
        session = boto3.session.Session()
        return cls(
            settings.s3_bucket,
            client=_make_client(session, settings, connect_timeout=2.0, read_timeout=5.0, attempts=2),
            probe_client=_make_client(session, settings, connect_timeout=1.0, read_timeout=1.5, attempts=1),
            region=settings.s3_region,
            default_ttl_seconds=settings.signed_url_ttl_seconds,
            breaker=breaker_from_settings(settings),
        )

    def check(self) -> None:
        """HEAD the bucket (creating it if missing) with the fast single-attempt client."""
        with self._translated("check"):
            self._head_or_create_bucket(self._probe)
        self._bucket_ready = True
        self.breaker.recovered()

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        self._ensure_bucket()
        with self._translated("put"):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def _get(self, key: str) -> bytes:
        self._ensure_bucket()
        with self._translated("get", missing_key=key):
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read()

    def _head(self, key: str) -> BlobInfo | None:
        self._ensure_bucket()
        with self._translated("head"):
            try:
                response = self._client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in _MISSING:
                    return None
                raise
        content_type = response.get("ContentType") or DEFAULT_CONTENT_TYPE
        return BlobInfo(key, response["ContentLength"], content_type, response["LastModified"])

    def _delete(self, key: str) -> None:
        # DeleteObject succeeds for a missing key, which is exactly the idempotence the contract wants.
        self._ensure_bucket()
        with self._translated("delete"):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def _delete_prefix(self, prefix: str) -> int:
        self._ensure_bucket()
        deleted = 0
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self._batch_size}
        )
        with self._translated("delete_prefix"):
            for page in pages:
                batch: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in page.get("Contents", [])
                ]
                if batch:
                    self._delete_batch(batch)
                    deleted += len(batch)
        return deleted

    def _delete_batch(self, batch: list[ObjectIdentifierTypeDef]) -> None:
        response = self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        # DeleteObjects answers 200 even when some keys failed; the failures are only in the body.
        errors = response.get("Errors", [])
        if errors:
            details = {"backend": "s3", "operation": "delete_prefix", "failed": len(errors)}
            raise StorageUnavailable(details={**details, "code": errors[0].get("Code", "")})

    def _list_keys(self, prefix: str) -> Iterator[str]:
        self._ensure_bucket()
        paginator = self._client.get_paginator("list_objects_v2")
        with self._translated("list"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]

    def _signed_url(self, key: str, expires_in: int) -> str:
        # Signing is local (no request), so no bucket check: the URL is only useful once the object exists.
        with self._translated("signed_url"):
            return self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._bucket_lock, self._translated("create_bucket"):
            if not self._bucket_ready:
                self._head_or_create_bucket(self._client)
                self._bucket_ready = True

    def _head_or_create_bucket(self, client: S3Client) -> None:
        try:
            client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                raise  # 403 and friends: the bucket exists but is not ours to use
        try:
            if self._region == "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
                client.create_bucket(Bucket=self.bucket)
            else:
                location = cast("BucketLocationConstraintType", self._region)
                client.create_bucket(
                    Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": location}
                )
        except ClientError as exc:
            if _code(exc) != "BucketAlreadyOwnedByYou":  # another process won the race: fine
                raise

    @contextmanager
    def _translated(self, operation: str, *, missing_key: str | None = None) -> Iterator[None]:
        """Translate botocore errors; with `missing_key`, a "no such key" answer becomes BlobNotFound."""
        try:
            yield
        except ClientError as exc:
            code = _code(exc)
            if missing_key is not None and code in _MISSING:
                raise BlobNotFound(details={"key": missing_key}) from exc
            if code == "NoSuchBucket":
                self._bucket_ready = False  # deleted behind our back: recreate it on the next call
            details = {"backend": "s3", "operation": operation, "code": code}
            raise StorageUnavailable(details=details) from exc
        except BotoCoreError as exc:  # connection refused, timeouts, missing credentials...
            details = {"backend": "s3", "operation": operation, "reason": type(exc).__name__}
            raise StorageUnavailable(details=details) from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _make_client(
    session: boto3.session.Session,
    settings: Settings,
    *,
    connect_timeout: float,
    read_timeout: float,
    attempts: int,
) -> S3Client:
    options: dict[str, Any] = {
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        "retries": {"total_max_attempts": attempts, "mode": "standard"},
        "signature_version": "s3v4",
    }
    if settings.s3_endpoint:
        # S3-compatible servers rarely do virtual-host buckets, and several reject the CRC checksums that
        # boto3 sends by default since 1.36, so only send checksums where the API requires them.
        options["s3"] = {"addressing_style": "path"}
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    return session.client(
        "s3",
        endpoint_url=settings.s3_endpoint or None,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id or None,
        aws_secret_access_key=settings.s3_secret_access_key or None,
        config=Config(**options),
    )
