"""Signed gateway URLs of the local storage backend (moto cannot test expiry or signatures for S3)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from functions.core.errors import SignedUrlExpired, SignedUrlInvalid
from functions.crypto import Envelope
from functions.storage import LocalStorage, UrlSigner

KEY_A = ("a", bytes(range(32)))
KEY_B = ("b", bytes(range(32, 64)))
NOW = 1_800_000_000


def local_storage(root: Path, *keys: tuple[str, bytes]) -> LocalStorage:
    signer = UrlSigner.from_envelope(Envelope(list(keys)))
    return LocalStorage(root, signer=signer, base_url="http://gateway.test", default_ttl_seconds=300)


def url_parts(url: str) -> tuple[str, str, str]:
    """(key, expires, signature) as the gateway route would receive them."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    key = unquote(parts.path.removeprefix("/api/storage/"))
    return key, query["expires"][0], query["signature"][0]


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return local_storage(tmp_path, KEY_A)


def test_a_fresh_url_verifies(storage: LocalStorage) -> None:
    key, expires, signature = url_parts(storage.signed_url("media/s1/photo 1.jpg", expires_in=60))
    assert key == "media/s1/photo 1.jpg"
    storage.verify_signed_request(key, expires, signature)


def test_default_lifetime_comes_from_settings(storage: LocalStorage) -> None:
    _, expires, signature = url_parts(storage.signed_url("media/s1/m1"))
    storage.verify_signed_request("media/s1/m1", expires, signature, now=int(expires) - 299)
    with pytest.raises(SignedUrlExpired):
        storage.verify_signed_request("media/s1/m1", expires, signature, now=int(expires) + 1)


def test_a_url_for_another_key_is_invalid(storage: LocalStorage) -> None:
    _, expires, signature = url_parts(storage.signed_url("media/s1/m1", expires_in=60))
    with pytest.raises(SignedUrlInvalid):
        storage.verify_signed_request("auth/s1/state.bin", expires, signature)


def test_extending_the_expiry_invalidates_the_signature(storage: LocalStorage) -> None:
    key, expires, signature = url_parts(storage.signed_url("media/s1/m1", expires_in=60))
    with pytest.raises(SignedUrlInvalid):
        storage.verify_signed_request(key, str(int(expires) + 3600), signature)


def test_a_tampered_signature_is_invalid(storage: LocalStorage) -> None:
    key, expires, signature = url_parts(storage.signed_url("media/s1/m1", expires_in=60))
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    with pytest.raises(SignedUrlInvalid) as caught:
        storage.verify_signed_request(key, expires, flipped)
    assert (caught.value.status, caught.value.code) == (403, "SIGNED_URL_INVALID")


@pytest.mark.parametrize(
    ("expires", "signature"),
    [
        ("", "0" * 64),
        ("-1", "0" * 64),
        ("\uff11\uff12\uff13", "0" * 64),
        ("1800000000", ""),
        ("1800000000", "zz" * 32),
    ],
    ids=["no-expiry", "negative", "non-ascii-digits", "no-signature", "not-hex"],
)
def test_malformed_parameters_are_invalid(storage: LocalStorage, expires: str, signature: str) -> None:
    with pytest.raises(SignedUrlInvalid):
        storage.verify_signed_request("media/s1/m1", expires, signature, now=NOW)


def test_an_expired_url_is_expired(storage: LocalStorage) -> None:
    key, expires, signature = url_parts(storage.signed_url("media/s1/m1", expires_in=60))
    storage.verify_signed_request(key, expires, signature, now=int(expires) - 1)
    with pytest.raises(SignedUrlExpired) as caught:
        storage.verify_signed_request(key, expires, signature, now=int(expires))
    assert (caught.value.status, caught.value.code) == (403, "SIGNED_URL_EXPIRED")


def test_a_forged_url_is_invalid_even_when_also_expired(storage: LocalStorage) -> None:
    with pytest.raises(SignedUrlInvalid):
        storage.verify_signed_request("media/s1/m1", "1000", "ab" * 32, now=NOW)


def test_a_url_signed_under_another_encryption_key_is_invalid(tmp_path: Path) -> None:
    theirs = local_storage(tmp_path / "theirs", KEY_B)
    key, expires, signature = url_parts(theirs.signed_url("media/s1/m1", expires_in=60))
    with pytest.raises(SignedUrlInvalid):
        local_storage(tmp_path / "ours", KEY_A).verify_signed_request(key, expires, signature)


def test_urls_issued_before_a_key_rotation_stay_valid_until_they_expire(tmp_path: Path) -> None:
    before = local_storage(tmp_path, KEY_A)
    key, expires, signature = url_parts(before.signed_url("media/s1/m1", expires_in=60))
    after = local_storage(tmp_path, KEY_B, KEY_A)
    after.verify_signed_request(key, expires, signature)
    assert url_parts(after.signed_url("media/s1/m1", expires_in=60))[2] != signature


def test_signature_is_hmac_of_key_and_expiry_under_a_derived_key() -> None:
    # Pinned so that a gateway built from another checkout (or the lead's route) agrees on the format.
    signer = UrlSigner([bytes(32)])
    assert signer.sign("media/s1/m1", NOW) == signer.sign("media/s1/m1", NOW)
    assert signer.sign("media/s1/m1", NOW) != signer.sign("media/s1/m", NOW)
    expected = hmac.new(bytes(32), b"media/s1/m1\n1800000000", hashlib.sha256).hexdigest()
    assert signer.sign("media/s1/m1", NOW) == expected
