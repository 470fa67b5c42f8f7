"""API keys: generation, hashing, lifecycle, and authentication of a presented key.

Keys look like `owa_k1_<64 hex>`; only SHA-256 (HMAC-SHA256 with `API_KEY_PEPPER` when set) is stored.
The last usable admin key can never be deleted, revoked, demoted or expired (409), so the deployment
cannot lock itself out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from functions.core.clock import utcnow
from functions.core.enums import Role
from functions.core.errors import Conflict, NotFound, Unauthenticated
from functions.core.models import ApiKey
from functions.services.key_cache import KeyCache
from functions.state.api_keys import ApiKeyRepository

KEY_PREFIX = "owa_k1_"
_USAGE_FLUSH_SECONDS = 30.0
# How long a found key may be served from memory at most (`KeyCache`: changes clear it at once).
KEY_CACHE_SECONDS = 5.0


class LastAdminKey(Conflict):
    code = "LAST_ADMIN_KEY"
    default_message = "This would remove the last usable admin key"


class ApiKeyNotFound(NotFound):
    code, default_message = "API_KEY_NOT_FOUND", "API key not found"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_hex(32)


def display_prefix(key: str) -> str:
    """The part of a key shown to identify it (`keyPrefix`): the fixed `owa_k1_` and 4 characters (16 bits
    of the 256 random ones), or the first 4 characters of a key chosen in another format (a master key), as
    little as can tell keys apart. Also cuts down prefixes stored longer by earlier versions."""
    fixed = KEY_PREFIX if key.startswith(KEY_PREFIX) else ""
    return key[: len(fixed) + 4]


def hash_key(plaintext: str, pepper: str | None) -> str:
    if pepper:
        return hmac.new(pepper.encode(), plaintext.encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(plaintext.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    key: ApiKey

    @property
    def role(self) -> Role:
        return self.key.role

    def can_see(self, session_id: str) -> bool:
        return self.key.allows_session(session_id)


class _UsageTracker:
    """Coalesces per-request usage writes: at most one Redis write per key per 30 s per process."""

    def __init__(self, repo: ApiKeyRepository) -> None:
        self._repo = repo
        self._pending: dict[str, int] = {}
        self._last_flush: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, key_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._pending[key_id] = self._pending.get(key_id, 0) + 1
            if now - self._last_flush.get(key_id, 0.0) < _USAGE_FLUSH_SECONDS:
                return
            uses = self._pending.pop(key_id)
            self._last_flush[key_id] = now
        self._repo.record_usage(key_id, uses)


class ApiKeyService:
    """Key lifecycle and authentication."""

    def __init__(
        self, repo: ApiKeyRepository, *, pepper: str | None, cache_seconds: float = KEY_CACHE_SECONDS
    ) -> None:
        self._repo = repo
        self._pepper = pepper
        self._usage = _UsageTracker(repo)
        self._cache = KeyCache(repo.subscribe_to_changes, ttl=cache_seconds) if cache_seconds > 0 else None
        if self._cache is not None:
            repo.watch_changes_here(self._cache)

    def create(
        self,
        name: str,
        role: Role = Role.OPERATOR,
        *,
        allowed_ips: list[str] | None = None,
        allowed_sessions: list[str] | None = None,
        expires_at: datetime | None = None,
        plaintext: str | None = None,
    ) -> tuple[ApiKey, str]:
        """Create a key; returns the record and the plaintext, which is never retrievable again."""
        plaintext = plaintext or generate_key()
        now = utcnow()
        key = ApiKey(
            id=str(uuid.uuid4()),
            name=name,
            key_hash=hash_key(plaintext, self._pepper),
            key_prefix=display_prefix(plaintext),
            role=role,
            created_at=now,
            updated_at=now,
            allowed_ips=allowed_ips or None,
            allowed_sessions=allowed_sessions or None,
            expires_at=expires_at,
        )
        if self._repo.find_by_hash(key.key_hash) is not None:
            raise Conflict("An API key with this value already exists", details={"field": "apiKey"})
        self._repo.save(key)
        return key, plaintext

    def all(self) -> list[ApiKey]:
        return self._repo.all()

    def get(self, key_id: str) -> ApiKey:
        key = self._repo.get(key_id)
        if key is None:
            raise ApiKeyNotFound(details={"id": key_id})
        return key

    def update(self, key_id: str, changes: dict[str, Any]) -> ApiKey:
        """Apply a partial update (name, role, allowedIps, allowedSessions, expiresAt)."""
        with self._repo.changes_lock():
            key = replace(self.get(key_id), **changes, updated_at=utcnow())
            self._refuse_losing_last_admin(key_id, key)
            self._repo.save(key)
        return key

    def revoke(self, key_id: str) -> ApiKey:
        return self.update(key_id, {"is_active": False})

    def delete(self, key_id: str) -> ApiKey:
        with self._repo.changes_lock():
            key = self.get(key_id)
            self._refuse_losing_last_admin(key_id, None)
            self._repo.delete(key)
        return key

    def _refuse_losing_last_admin(self, key_id: str, replacement: ApiKey | None) -> None:
        """Raise LastAdminKey if the change leaves no durable admin key where there was one.

        Durable: an active, unscoped admin key with no expiry. An expiring key does not count, or giving the
        last admin an expiry would lock the deployment out when it passes.
        """

        def any_admin(keys: list[ApiKey]) -> bool:
            return any(
                key.role is Role.ADMIN and key.is_active and key.expires_at is None and not key.is_scoped()
                for key in keys
            )

        current = self._repo.all()
        survivors = [key for key in current if key.id != key_id]
        if replacement is not None:
            survivors.append(replacement)
        if any_admin(current) and not any_admin(survivors):
            raise LastAdminKey(details={"id": key_id})

    def authenticate(self, plaintext: str | None, client_ip: str | None) -> Principal:
        """Resolve a presented key; Unauthenticated if missing, unknown, revoked, expired or IP-refused."""
        if not plaintext:
            raise Unauthenticated("API key required")
        key = self._find(hash_key(plaintext, self._pepper))
        if key is None:
            raise Unauthenticated("Invalid API key")
        if not key.is_active:
            raise Unauthenticated("API key has been revoked")
        if key.is_expired(utcnow()):
            raise Unauthenticated("API key has expired")
        if not key.allows_ip(client_ip):
            raise Unauthenticated("API key is not allowed from this IP address")
        self._usage.hit(key.id)
        return Principal(key)

    def _find(self, key_hash: str) -> ApiKey | None:
        if self._cache is None:
            return self._repo.find_by_hash(key_hash)
        key, generation = self._cache.get(key_hash)
        if key is None:
            key = self._repo.find_by_hash(key_hash)
            if key is not None:
                self._cache.put(key_hash, key, generation)
        return key
