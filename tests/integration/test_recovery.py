"""`openwa recover`'s service: the session registry rebuilt from the manifests in storage (real Redis, local
storage)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from functions.config import Settings
from functions.core.enums import DesiredState, SessionStatus
from functions.services.recovery import Outcome, recover_sessions
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository
from functions.storage import BlobStorage, build_storage
from functions.storage.manifests import Manifest, write_manifest

KEYS = Keys("openwa")


@pytest.fixture
def storage(settings: Settings) -> BlobStorage:
    return build_storage(settings)


def mirror(session_id: str, name: str, desired: str = "running", **extra: Any) -> dict[str, Any]:
    config = {"reconnectBaseDelay": 7000}
    return {"id": session_id, "name": name, "desiredState": desired, "config": config, **extra}


def test_missing_sessions_come_back_with_their_ids_names_config_and_desired_state(
    redis_conn: Redis, storage: BlobStorage
) -> None:
    write_manifest(storage, "s1", Manifest("auth/s1/state-1.bin", "x", 1, 1, "f", mirror("s1", "linked")))
    write_manifest(storage, "s2", Manifest(session=mirror("s2", "idle", "stopped")))
    write_manifest(storage, "s3", Manifest(session=mirror("s3", "logged-out", "stopped")))
    storage.put("auth/s3/state-9.bin", b"stale")  # not a manifest: ignored

    results = recover_sessions(redis_conn, KEYS, storage)

    assert {r.session_id: r.outcome for r in results} == {s: Outcome.RECREATED for s in ("s1", "s2", "s3")}
    repo = SessionRepository(redis_conn, KEYS)
    linked, idle = repo.get("s1"), repo.get("s2")
    assert linked is not None
    assert idle is not None
    assert (linked.name, linked.desired_state, linked.status) == (
        "linked",
        DesiredState.RUNNING,
        SessionStatus.INITIALIZING,
    )
    assert linked.config.reconnect_base_delay == 7000
    assert (idle.name, idle.desired_state, idle.status) == (
        "idle",
        DesiredState.STOPPED,
        SessionStatus.CREATED,
    )
    assert repo.id_for_name("logged-out") == "s3"


def test_recovering_again_changes_nothing_and_a_taken_name_is_not_stolen(
    redis_conn: Redis, storage: BlobStorage
) -> None:
    write_manifest(storage, "s1", Manifest(session=mirror("s1", "alice")))
    write_manifest(storage, "s2", Manifest(session=mirror("s2", "alice")))  # same name, another session
    write_manifest(storage, "s4", Manifest("auth/s4/state-1.bin", "x", 1, 1, "f"))  # predates mirrors
    storage.put("auth/s5/manifest.json", b"{not json")

    first = {r.session_id: r.outcome for r in recover_sessions(redis_conn, KEYS, storage)}
    again = {r.session_id: r.outcome for r in recover_sessions(redis_conn, KEYS, storage)}

    assert first == {
        "s1": Outcome.RECREATED,
        "s2": Outcome.NAME_TAKEN,
        "s4": Outcome.NO_MIRROR,
        "s5": Outcome.UNREADABLE,
    }
    assert again["s1"] is Outcome.PRESENT
    assert SessionRepository(redis_conn, KEYS).all_ids() == ["s1"]


def test_a_dry_run_writes_nothing(redis_conn: Redis, storage: BlobStorage) -> None:
    write_manifest(storage, "s1", Manifest(session=mirror("s1", "alice")))
    assert [r.outcome for r in recover_sessions(redis_conn, KEYS, storage, dry_run=True)] == [
        Outcome.RECREATED
    ]
    assert SessionRepository(redis_conn, KEYS).all_ids() == []


def test_the_api_mirrors_a_new_session_so_it_can_be_recovered_before_it_ever_ran(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis, storage: BlobStorage
) -> None:
    body = {"name": "sales", "config": {"maxReconnectAttempts": 3}}
    created = client.post("/api/sessions", json=body, headers=admin_headers).get_json()
    redis_conn.delete(KEYS.session(created["id"]), KEYS.sessions, KEYS.session_names)  # Redis loses it

    assert [r.outcome for r in recover_sessions(redis_conn, KEYS, storage)] == [Outcome.RECREATED]
    again = client.get(f"/api/sessions/{created['id']}", headers=admin_headers).get_json()
    assert (again["name"], again["status"]) == ("sales", "created")
    config = client.get(f"/api/sessions/{created['id']}/config", headers=admin_headers).get_json()
    assert config["maxReconnectAttempts"] == 3
