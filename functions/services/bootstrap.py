"""First-boot seeding of the admin key (OpenWA: `API_MASTER_KEY`, else random, kept in `data/.api-key`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from functions.config import Settings
from functions.core.enums import Role
from functions.services.api_keys import ApiKeyService, hash_key
from functions.state.api_keys import ApiKeyRepository
from functions.state.keys import Keys

_SEED_LOCK_SECONDS = 30


@dataclass(frozen=True)
class BootstrapResult:
    """`created` is True only in the process that seeded the key; `key` is set only then."""

    created: bool
    key_file: Path
    key: str | None = None


def _write_secret_file(path: Path, secret: str) -> None:
    """Write `secret` to `path` with mode 0600 from the first byte (never world-readable, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    os.replace(temporary, path)


def ensure_admin_key(settings: Settings, conn: Redis) -> BootstrapResult:
    """Seed one admin key if there are no keys at all. Safe to call from many processes at once."""
    keys = Keys(settings.redis_prefix)
    repo = ApiKeyRepository(conn, keys)
    if not repo.is_empty():
        return BootstrapResult(created=False, key_file=settings.api_key_file)
    with conn.lock(f"{keys.prefix}:lock:bootstrap", timeout=_SEED_LOCK_SECONDS, blocking_timeout=10):
        if not repo.is_empty():
            return BootstrapResult(created=False, key_file=settings.api_key_file)
        service = ApiKeyService(repo, pepper=settings.api_key_pepper)
        master = settings.api_master_key
        if master and repo.find_by_hash(hash_key(master, settings.api_key_pepper)):
            return BootstrapResult(created=False, key_file=settings.api_key_file)
        _, plaintext = service.create("bootstrap-admin", Role.ADMIN, plaintext=master)
        _write_secret_file(settings.api_key_file, plaintext)
        return BootstrapResult(created=True, key_file=settings.api_key_file, key=plaintext)
