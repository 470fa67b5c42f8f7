"""AES-256-GCM envelopes: sealing, key rotation, tamper detection and the on-disk key file."""

from __future__ import annotations

import base64
import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from functions.config import Settings, SettingsError, load_settings, parse_encryption_keys
from functions.core.errors import DecryptionFailed
from functions.crypto import Envelope, envelope_from_settings

OLD_KEY = ("old", bytes(range(32)))
NEW_KEY = ("new", bytes(range(32, 64)))
CONTEXT = b"session:alpha"


def settings_for(data_dir: Path, encryption_key: str | None = None) -> Settings:
    return load_settings(data_dir=data_dir, encryption_key=encryption_key, _env_file=None)


def test_round_trip_returns_the_plaintext() -> None:
    envelope = Envelope([OLD_KEY])
    blob = envelope.encrypt(b"auth state \x00\xff", context=CONTEXT)
    assert envelope.decrypt(blob, context=CONTEXT) == b"auth state \x00\xff"


def test_blob_is_self_describing_and_never_repeats() -> None:
    envelope = Envelope([OLD_KEY])
    first, second = (envelope.encrypt(b"same", context=CONTEXT) for _ in range(2))
    assert first.startswith(b"OWE\x01\x03old")
    assert first != second  # a fresh nonce every time
    assert envelope.key_id(first) == "old"
    assert b"same" not in first


def test_empty_plaintext_round_trips() -> None:
    envelope = Envelope([OLD_KEY])
    assert envelope.decrypt(envelope.encrypt(b"", context=CONTEXT), context=CONTEXT) == b""


def test_old_blobs_stay_readable_after_a_new_key_is_put_first() -> None:
    sealed_before_rotation = Envelope([OLD_KEY]).encrypt(b"secret", context=CONTEXT)
    rotated_ring = Envelope([NEW_KEY, OLD_KEY])
    assert rotated_ring.decrypt(sealed_before_rotation, context=CONTEXT) == b"secret"
    assert rotated_ring.key_id(rotated_ring.encrypt(b"x", context=CONTEXT)) == "new"


def test_rotate_reseals_under_the_active_key() -> None:
    blob = Envelope([OLD_KEY]).encrypt(b"secret", context=CONTEXT)
    rotated = Envelope([NEW_KEY, OLD_KEY]).rotate(blob, CONTEXT)
    assert Envelope([NEW_KEY, OLD_KEY]).key_id(rotated) == "new"
    # Once every blob is rotated, the old key can be dropped from the ring.
    assert Envelope([NEW_KEY]).decrypt(rotated, context=CONTEXT) == b"secret"


def test_rotate_leaves_a_blob_already_under_the_active_key_alone() -> None:
    envelope = Envelope([NEW_KEY, OLD_KEY])
    blob = envelope.encrypt(b"secret", context=CONTEXT)
    assert envelope.rotate(blob, CONTEXT) is blob


def test_rotate_refuses_a_corrupted_blob_even_under_the_active_key() -> None:
    envelope = Envelope([NEW_KEY])
    blob = bytearray(envelope.encrypt(b"secret", context=CONTEXT))
    blob[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        envelope.rotate(bytes(blob), CONTEXT)


@pytest.mark.parametrize(
    "position",
    [3, 4, 5, 9, 20, -1],
    ids=["version", "kid-length", "kid", "nonce", "ciphertext", "tag"],
)
def test_any_modified_byte_is_decryption_failed(position: int) -> None:
    envelope = Envelope([OLD_KEY])
    blob = bytearray(envelope.encrypt(b"a long enough plaintext", context=CONTEXT))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionFailed):
        envelope.decrypt(bytes(blob), context=CONTEXT)


def test_authentication_failure_is_chained_to_its_cause() -> None:
    envelope = Envelope([OLD_KEY])
    blob = bytearray(envelope.encrypt(b"secret", context=CONTEXT))
    blob[-1] ^= 0x01
    with pytest.raises(DecryptionFailed) as caught:
        envelope.decrypt(bytes(blob), context=CONTEXT)
    assert isinstance(caught.value.__cause__, InvalidTag)
    assert caught.value.code == "DECRYPTION_FAILED"


def test_a_blob_cannot_be_moved_to_another_session() -> None:
    envelope = Envelope([OLD_KEY])
    blob = envelope.encrypt(b"secret", context=b"session:alpha")
    with pytest.raises(DecryptionFailed):
        envelope.decrypt(blob, context=b"session:beta")


def test_unknown_key_id_is_decryption_failed() -> None:
    blob = Envelope([NEW_KEY]).encrypt(b"secret", context=CONTEXT)
    with pytest.raises(DecryptionFailed) as caught:
        Envelope([OLD_KEY]).decrypt(blob, context=CONTEXT)
    assert caught.value.details == {"keyId": "new"}


def test_same_key_id_with_different_key_material_is_decryption_failed() -> None:
    blob = Envelope([("k1", bytes(32))]).encrypt(b"secret", context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        Envelope([("k1", bytes([1]) * 32)]).decrypt(blob, context=CONTEXT)


@pytest.mark.parametrize("length", [0, 2, 3, 5, 8, 20, 36])
def test_truncated_blobs_are_decryption_failed(length: int) -> None:
    envelope = Envelope([OLD_KEY])
    blob = envelope.encrypt(b"secret", context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        envelope.decrypt(blob[:length], context=CONTEXT)


def test_foreign_data_is_decryption_failed() -> None:
    with pytest.raises(DecryptionFailed):
        Envelope([OLD_KEY]).decrypt(b'{"plaintext": "from OpenWA"}', context=CONTEXT)


def test_text_tokens_round_trip_and_are_url_safe() -> None:
    envelope = Envelope([OLD_KEY])
    token = envelope.encrypt_text("whsec_ünïcode/secret+", context=b"webhook:w1")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    assert envelope.decrypt_text(token, context=b"webhook:w1") == "whsec_ünïcode/secret+"


@pytest.mark.parametrize("token", ["", "not base64!", "é", "T1dF"])
def test_malformed_text_tokens_are_decryption_failed(token: str) -> None:
    with pytest.raises(DecryptionFailed):
        Envelope([OLD_KEY]).decrypt_text(token, context=CONTEXT)


@pytest.mark.parametrize(
    "ring",
    [[], [("k1", bytes(16))], [("", bytes(32))], [("k1", bytes(32)), ("k1", bytes(32))]],
    ids=["empty", "short-key", "empty-kid", "duplicate-kid"],
)
def test_malformed_key_rings_are_refused(ring: list[tuple[str, bytes]]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the messages are asserted by the config tests)
        Envelope(ring)


def test_derived_keys_are_per_purpose_and_never_the_key_itself() -> None:
    envelope = Envelope([NEW_KEY, OLD_KEY])
    urls = envelope.derive_keys(b"openwa-storage-url")
    assert len(urls) == 2
    assert urls == envelope.derive_keys(b"openwa-storage-url")
    assert urls[0] != envelope.derive_keys(b"another-purpose")[0]
    assert urls[0] != NEW_KEY[1]


def test_encryption_key_setting_wins_over_the_key_file(tmp_path: Path) -> None:
    value = "new:" + base64.b64encode(NEW_KEY[1]).decode() + ",old:" + base64.b64encode(OLD_KEY[1]).decode()
    envelope = envelope_from_settings(settings_for(tmp_path, value))
    blob = Envelope(parse_encryption_keys(value)).encrypt(b"secret", context=CONTEXT)
    assert envelope.decrypt(blob, context=CONTEXT) == b"secret"
    assert envelope.active_key_id == "new"
    assert not (tmp_path / ".encryption-key").exists()


def test_key_file_is_created_private_and_stable_across_calls(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = envelope_from_settings(settings_for(data_dir))
    key_file = data_dir / ".encryption-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_text().strip(), validate=True)) == 32
    contents = key_file.read_bytes()

    second = envelope_from_settings(settings_for(data_dir))
    assert key_file.read_bytes() == contents  # never overwritten
    assert second.decrypt(first.encrypt(b"secret", context=CONTEXT), context=CONTEXT) == b"secret"
    assert [path.name for path in data_dir.iterdir()] == [".encryption-key"]  # no temp files left


def test_racing_first_uses_end_with_one_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    barrier = threading.Barrier(8)
    envelopes: list[Envelope] = []

    def first_use() -> None:
        barrier.wait()
        envelopes.append(envelope_from_settings(settings_for(data_dir)))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(envelopes) == 8
    blob = envelopes[0].encrypt(b"secret", context=CONTEXT)
    assert all(envelope.decrypt(blob, context=CONTEXT) == b"secret" for envelope in envelopes)
    assert os.listdir(data_dir) == [".encryption-key"]


def test_a_malformed_key_file_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / ".encryption-key").write_text("not-a-key\n")
    with pytest.raises(SettingsError, match=r"\.encryption-key"):
        envelope_from_settings(settings_for(tmp_path))


def test_a_key_file_that_cannot_be_created_is_a_settings_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(SettingsError, match="Invalid configuration"):
        envelope_from_settings(settings_for(blocker / "data"))
