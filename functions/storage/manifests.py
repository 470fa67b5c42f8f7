"""Session manifests in blob storage (`auth/<sessionId>/manifest.json`): the way back to a session's registry
entry and its credentials when Redis is lost (DESIGN §1.5; `openwa recover` reads them).

A manifest holds two independent parts, either of which may be absent:
- `session`, the session's mirror: what `openwa recover` needs to recreate its record with the same id and
  name (`id`, `name`, `createdAt`, `config` in wire form, `proxyUrlEncrypted`/`proxyType` exactly as stored,
  so still encrypted, and `desiredState`). No phone number or other runtime state: those come back from
  WhatsApp when the session is ready again.
- the current credentials (`state_key`, `sha256`, `size`, `created_ms`, `format`, and for a file-map snapshot
  `files`), written by the runner's `AuthStore` (encrypted; absent until the device is linked and after a
  logout). `state_key` is where they are: one object (older formats) or, for a file map, the prefix of its
  content-addressed objects; `files` lists the map as `{path: {"sha256": hex, "size": bytes}}`.

Who writes it, and so how fresh the mirror is: the API when it creates a session (mirror only; nothing else
can have written the manifest yet), then only the runner holding the session, at every auth snapshot (after
linking, every AUTH_SNAPSHOT_INTERVAL while ready, and on stop or drain) with the record as it then is, and at
logout (credentials dropped, mirror kept with desired state `stopped`). One writer after creation means no
lost update between API and runner; the cost is that a config or desired-state change is mirrored at the
session's next snapshot, not at once (a stopped session: when it next runs). Deleting a session deletes the
whole `auth/<id>/` prefix, so a deleted session is never recovered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any

from functions.core.clock import iso, parse_iso, utcnow
from functions.core.enums import DesiredState, SessionStatus
from functions.core.errors import BlobNotFound
from functions.core.models import Session, SessionConfig
from functions.storage.base import BlobStorage

AUTH_PREFIX = "auth/"
MANIFEST_NAME = "manifest.json"


def manifest_key(session_id: str) -> str:
    return f"{AUTH_PREFIX}{session_id}/{MANIFEST_NAME}"


@dataclass(frozen=True)
class Manifest:
    """One session's manifest. `state_key` is None when no credentials are stored. Manifests written before
    `files` existed read back with `files` None, and readers that predate it ignore it."""

    state_key: str | None = None
    sha256: str | None = None
    size: int = 0
    created_ms: int = 0
    format: str | None = None
    session: dict[str, Any] | None = None
    files: dict[str, dict[str, Any]] | None = None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        known = {spec.name for spec in fields(cls)}
        return cls(**{name: value for name, value in data.items() if name in known})


def read_manifest(storage: BlobStorage, session_id: str) -> Manifest | None:
    try:
        return Manifest.from_json(storage.get(manifest_key(session_id)))
    except BlobNotFound:
        return None


def write_manifest(storage: BlobStorage, session_id: str, manifest: Manifest) -> None:
    storage.put(manifest_key(session_id), manifest.to_json(), content_type="application/json")


def list_manifests(storage: BlobStorage) -> Iterator[tuple[str, Manifest | None]]:
    """Every `auth/<id>/manifest.json` as (session id, manifest); None for one that does not parse."""
    for key in storage.list_keys(AUTH_PREFIX):
        session_id, _, name = key.removeprefix(AUTH_PREFIX).partition("/")
        if name != MANIFEST_NAME:
            continue
        try:
            yield session_id, Manifest.from_json(storage.get(key))
        except (BlobNotFound, ValueError, TypeError):
            yield session_id, None


def mirror_of(session: Session) -> dict[str, Any]:
    """The session's mirror (see the module docstring)."""
    return {
        "id": session.id,
        "name": session.name,
        "createdAt": iso(session.created_at),
        "config": session.config.to_wire(),
        "proxyUrlEncrypted": session.proxy_url_encrypted,
        "proxyType": session.proxy_type,
        "desiredState": session.desired_state.value,
    }


def session_from_mirror(mirror: dict[str, Any], *, has_credentials: bool) -> Session:
    """A fresh record for a recovered session: same id, name, config and proxy; wanted running if it was
    (then `initializing`, as after a start), else `disconnected` with credentials or `created` without.
    Raises KeyError/ValueError for a mirror that lacks its id or name or has an unknown desired state."""
    now = utcnow()
    desired = DesiredState(mirror.get("desiredState", DesiredState.STOPPED.value))
    if desired is DesiredState.RUNNING:
        status = SessionStatus.INITIALIZING
    else:
        status = SessionStatus.DISCONNECTED if has_credentials else SessionStatus.CREATED
    return Session(
        id=str(mirror["id"]),
        name=str(mirror["name"]),
        created_at=parse_iso(mirror.get("createdAt")) or now,
        updated_at=now,
        status=status,
        desired_state=desired,
        config=SessionConfig.from_wire(mirror.get("config")),
        proxy_url_encrypted=mirror.get("proxyUrlEncrypted"),
        proxy_type=mirror.get("proxyType"),
    )
