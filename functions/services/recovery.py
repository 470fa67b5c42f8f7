"""`openwa recover`: rebuild the session registry from the manifests in storage after Redis lost it.

Every `auth/<id>/manifest.json` carrying a session mirror (`functions.storage.manifests`) whose session is
missing from Redis is recreated with the same id, name, config and proxy, wanted running if it was; the
runners are then woken, claim the running ones and restore their stored credentials, so linked sessions come
back `ready` without a QR. Sessions still in Redis are left alone, so recovering twice (or with nothing lost)
changes nothing. What Redis held and storage does not is not recovered: API keys other than the seeded admin
key, webhooks, message records, event streams.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from redis import Redis

from functions.core.enums import DesiredState
from functions.queueing import runner_wake_channel
from functions.state.keys import Keys
from functions.state.sessions import SessionNameTaken, SessionRepository
from functions.storage.base import BlobStorage
from functions.storage.manifests import Manifest, list_manifests, session_from_mirror


class Outcome(StrEnum):
    RECREATED = "recreated"
    PRESENT = "already present"
    NAME_TAKEN = "skipped: its name belongs to another session"
    NO_MIRROR = "skipped: the manifest has no session record"
    UNREADABLE = "skipped: unreadable manifest"


@dataclass(frozen=True)
class Recovered:
    """What happened to one manifest's session."""

    session_id: str
    outcome: Outcome
    name: str | None = None
    running: bool = False
    linked: bool = False


def recover_sessions(
    conn: Redis, keys: Keys, storage: BlobStorage, *, dry_run: bool = False
) -> list[Recovered]:
    """Recreate the sessions storage knows and Redis does not; wake the runners if any was recreated."""
    repo = SessionRepository(conn, keys)
    results = [
        _recover_one(repo, session_id, manifest, dry_run) for session_id, manifest in list_manifests(storage)
    ]
    if not dry_run and any(result.outcome is Outcome.RECREATED for result in results):
        conn.publish(runner_wake_channel(keys.prefix), "recover")
    return results


def _recover_one(
    repo: SessionRepository, session_id: str, manifest: Manifest | None, dry_run: bool
) -> Recovered:
    if manifest is None:
        return Recovered(session_id, Outcome.UNREADABLE)
    linked = manifest.state_key is not None
    if manifest.session is None:
        return Recovered(session_id, Outcome.NO_MIRROR, linked=linked)
    try:
        session = session_from_mirror(manifest.session, has_credentials=linked)
    except (KeyError, ValueError, TypeError):
        return Recovered(session_id, Outcome.UNREADABLE, linked=linked)
    if session.id != session_id:  # a mirror copied under another session's prefix
        return Recovered(session_id, Outcome.UNREADABLE, linked=linked)
    running = session.desired_state is DesiredState.RUNNING
    result = Recovered(session_id, Outcome.RECREATED, session.name, running, linked)
    if repo.get(session_id) is not None:
        return replace(result, outcome=Outcome.PRESENT)
    if not dry_run:
        try:
            repo.create(session)
        except SessionNameTaken:
            return replace(result, outcome=Outcome.NAME_TAKEN)
    return result
