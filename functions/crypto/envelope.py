"""AES-256-GCM envelope encryption for data at rest (auth blobs, webhook secrets, proxy credentials).

Blob layout (all of it self-describing, so keys can rotate without a migration step)::

    b"OWE" | version (1 byte) | key-id length (1 byte) | key id (ASCII) | nonce (12 bytes) | ciphertext+tag

The header and the caller's `context` are both authenticated (AAD): a blob only decrypts under the context
it was sealed with (e.g. ``b"session:<id>"``), so an auth blob cannot be swapped into another session, and
editing the key id or version byte is detected like any other tampering.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from functions.config import SettingsError, parse_encryption_keys
from functions.core.errors import DecryptionFailed

if TYPE_CHECKING:
    from functions.config import Settings

MAGIC = b"OWE"
VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_SIZE = 32
KEY_FILE_NAME = ".encryption-key"


class Envelope:
    """Seals and opens blobs with a ring of AES-256 keys.

    `keys` is ``[(key_id, 32-byte key), ...]``: the first key encrypts, every key decrypts, so rotating means
    putting a new key first and keeping the old ones until `rotate` has rewritten every blob.
    Raises ValueError for a malformed ring (a configuration error, not a runtime one).
    """

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("an envelope needs at least one key")
        ring: dict[str, AESGCM] = {}
        for kid, key in keys:
            if not kid or not kid.isascii() or len(kid) > 255:
                raise ValueError(f"key id {kid!r} must be 1-255 ASCII characters")
            if len(key) != KEY_SIZE:
                raise ValueError(f"key {kid!r} must be {KEY_SIZE} bytes")
            if kid in ring:
                raise ValueError(f"key id {kid!r} appears twice")
            ring[kid] = AESGCM(key)
        self._ring = ring
        self._raw = [key for _, key in keys]
        self._active = keys[0][0]

    @property
    def active_key_id(self) -> str:
        """The id of the key new blobs are sealed with."""
        return self._active

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Seal `plaintext` under the active key, bound to `context`; a fresh random nonce every call."""
        header = _header(self._active)
        nonce = secrets.token_bytes(NONCE_SIZE)
        sealed = self._ring[self._active].encrypt(nonce, plaintext, header + nonce + context)
        return header + nonce + sealed

    def decrypt(self, blob: bytes, *, context: bytes) -> bytes:
        """Open a blob sealed by `encrypt` under any key of the ring with the same `context`.

        Raises DecryptionFailed for a truncated or foreign blob, an unknown key id, a wrong context or any
        modified byte; the caller never sees partially authenticated plaintext.
        """
        kid, header_end = _parse_header(blob)
        cipher = self._ring.get(kid)
        if cipher is None:
            raise DecryptionFailed("Stored data is sealed with an unknown key", details={"keyId": kid})
        nonce = blob[header_end : header_end + NONCE_SIZE]
        try:
            return cipher.decrypt(nonce, blob[header_end + NONCE_SIZE :], blob[:header_end] + nonce + context)
        except InvalidTag as exc:
            raise DecryptionFailed(details={"keyId": kid}) from exc

    def key_id(self, blob: bytes) -> str:
        """The id of the key `blob` was sealed with (header only; does not authenticate the blob)."""
        return _parse_header(blob)[0]

    def rotate(self, blob: bytes, context: bytes) -> bytes:
        """Return `blob` sealed under the active key; a blob already under it is returned unchanged."""
        if self.key_id(blob) == self._active:
            # Still authenticate it, so rotation never launders a corrupted blob into a valid-looking one.
            self.decrypt(blob, context=context)
            return blob
        return self.encrypt(self.decrypt(blob, context=context), context=context)

    def encrypt_text(self, text: str, *, context: bytes) -> str:
        """Seal a UTF-8 string into a URL-safe base64 token, for secrets kept in Redis."""
        return base64.urlsafe_b64encode(self.encrypt(text.encode("utf-8"), context=context)).decode("ascii")

    def decrypt_text(self, token: str, *, context: bytes) -> str:
        """Open a token made by `encrypt_text`; DecryptionFailed for anything else."""
        try:
            blob = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
        except (UnicodeEncodeError, binascii.Error) as exc:
            raise DecryptionFailed("Stored secret is not a valid token") from exc
        try:
            return self.decrypt(blob, context=context).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecryptionFailed("Stored secret is not valid UTF-8") from exc

    def derive_keys(self, info: bytes, length: int = 32) -> list[bytes]:
        """Purpose-bound subkeys (HKDF-SHA256 with `info`), one per ring key, the active key's first.

        Lets other features (e.g. signed storage URLs) key themselves from ENCRYPTION_KEY without ever using
        the encryption key itself for a second purpose.
        """
        return [
            HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key)
            for key in self._raw
        ]


def _header(kid: str) -> bytes:
    encoded = kid.encode("ascii")
    return MAGIC + bytes((VERSION, len(encoded))) + encoded


def _parse_header(blob: bytes) -> tuple[str, int]:
    """Return (key id, offset of the nonce); DecryptionFailed if `blob` cannot be an envelope."""
    fixed = len(MAGIC) + 2
    if len(blob) < fixed or blob[: len(MAGIC)] != MAGIC:
        raise DecryptionFailed("Stored data is not an encrypted envelope")
    if blob[len(MAGIC)] != VERSION:
        raise DecryptionFailed("Stored data uses an unknown envelope version")
    header_end = fixed + blob[len(MAGIC) + 1]
    if len(blob) < header_end + NONCE_SIZE + TAG_SIZE:
        raise DecryptionFailed("Stored data is truncated")
    try:
        kid = blob[fixed:header_end].decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecryptionFailed("Stored data has a malformed key id") from exc
    return kid, header_end


def envelope_from_settings(settings: Settings) -> Envelope:
    """The process's envelope: ENCRYPTION_KEY when set, else the key file `<data_dir>/.encryption-key`.

    The key file is created on first use (32 random bytes, base64, mode 0600) and never overwritten; it
    holds the same syntax as ENCRYPTION_KEY, so an operator can turn it into a rotation list. Losing it
    makes every sealed blob unreadable, so back it up with the data directory.
    Raises SettingsError if the key file is malformed or cannot be read or created.
    """
    if settings.encryption_key:
        return Envelope(parse_encryption_keys(settings.encryption_key))
    path = settings.data_dir / KEY_FILE_NAME
    try:
        return Envelope(parse_encryption_keys(_read_or_create_key_file(path)))
    except (OSError, ValueError) as exc:  # unreadable, unwritable or malformed: all fatal at boot
        raise SettingsError(f"Invalid configuration: {path}: {exc}") from exc


def _read_or_create_key_file(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_exclusively(path, base64.b64encode(secrets.token_bytes(KEY_SIZE)) + b"\n")
    return path.read_text(encoding="ascii").strip()


def _create_exclusively(path: Path, content: bytes) -> None:
    """Publish `content` at `path` unless it already exists; racing processes all end with one winner.

    The key is written and fsynced to a private temporary file first, then hard-linked into place: `link`
    fails if the name exists and is atomic, so no reader can ever see a half-written key file.
    """
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
