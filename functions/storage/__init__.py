"""Blob storage: one interface (`BlobStorage`), an S3 backend and a local-filesystem backend.

`build_storage(settings)` picks the backend from STORAGE_TYPE; callers depend only on `BlobStorage`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.config import StorageType
from functions.crypto.envelope import envelope_from_settings
from functions.storage.base import BlobInfo, BlobStorage, validate_key, validate_prefix
from functions.storage.local import LocalStorage, UrlSigner
from functions.storage.s3 import S3Storage

if TYPE_CHECKING:
    from functions.config import Settings

__all__ = [
    "BlobInfo",
    "BlobStorage",
    "LocalStorage",
    "S3Storage",
    "UrlSigner",
    "build_storage",
    "validate_key",
    "validate_prefix",
]


def build_storage(settings: Settings) -> BlobStorage:
    """The configured backend. Does no I/O against S3 (the bucket is checked on first use); the local
    backend reads or creates the encryption key file, since its URL-signing key derives from it."""
    if settings.storage_type is StorageType.S3:
        return S3Storage.from_settings(settings)
    return LocalStorage.from_settings(settings, envelope_from_settings(settings))
