"""Property-based fuzzing of every operation in the gateway's own OpenAPI document (schemathesis).

The app runs in-process (WSGI) on a real Redis. Each generated request must get an answer that is not a
5xx and that conforms to the document: a documented status, content type and body schema. Half of the
generated ids are swapped for ids that exist, so requests also get past the 404 into the handlers.

The fuzzer creates, updates, revokes and deletes API keys as it likes, so after every request the
deployment must still hold a usable unscoped admin key: the gateway refuses to remove the last one.
The fuzzer authenticates with a known key that is still an admin, learning the plaintext of every key
it creates, so losing the bootstrap key to a legitimate demotion does not end the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from redis import Redis
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions.api.app import create_app
from functions.config import Settings
from functions.core.clock import utcnow
from functions.core.enums import Role, SessionStatus
from functions.services.api_keys import ApiKeyService, hash_key
from functions.state.api_keys import ApiKeyRepository
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository

pytestmark = pytest.mark.e2e

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
SMOKE = settings(FUZZ, max_examples=8)
# A QR string as WhatsApp Web encodes it (ref,publicKey,identityKey,advSecret).
QR_STRING = "2@Vh3k9sQ0fakeRef==,yP0wQxHj0v1fakePublicKey=,Zx8fakeIdentityKey=,Q2FkdlNlY3JldA=="


class World:
    """What the fuzzer runs against: the app, a few real sessions and keys, and the keys it holds."""

    def __init__(self, app: Flask, settings: Settings, conn: Redis, master_key: str) -> None:
        self.app = app
        self.settings = settings
        keys = Keys(settings.redis_prefix)
        self.key_repo = ApiKeyRepository(conn, keys)
        self.session_repo = SessionRepository(conn, keys)
        self.plaintexts = [master_key]

    def seed(self) -> None:
        """Sessions in each state the API alone can reach, one showing a QR, and two non-admin keys."""
        service = self.app.extensions["openwa"].sessions
        service.create("fuzz-created", None, None)
        started = service.create("fuzz-started", None, None)
        service.start(started.session.id)
        stopped = service.create("fuzz-stopped", None, None)
        service.start(stopped.session.id)
        service.stop(stopped.session.id)
        showing_qr = service.create("fuzz-qr", None, None)
        service.start(showing_qr.session.id)
        # What a runner writes when WhatsApp Web shows a QR code.
        self.session_repo.update(showing_qr.session.id, status=SessionStatus.QR_READY, qr=QR_STRING)
        keys = ApiKeyService(self.key_repo, pepper=self.settings.api_key_pepper)
        for name, role in (("fuzz-viewer", Role.VIEWER), ("fuzz-operator", Role.OPERATOR)):
            self.plaintexts.append(keys.create(name, role)[1])

    def existing_ids(self, parameter: str) -> list[str]:
        if parameter == "session_id":
            return self.session_repo.all_ids()
        if parameter == "key_id":
            return [key.id for key in self.key_repo.all()]
        return []

    def aim_at_existing(self, case: Case) -> None:
        """Swap about half of the generated path ids for ids that exist (chosen by the generated value,
        so a failing example replays the same way)."""
        for name, value in list((case.path_parameters or {}).items()):
            candidates = self.existing_ids(name)
            if not isinstance(value, str) or not candidates:
                continue
            index = len(value) % (2 * len(candidates))
            if index < len(candidates):
                case.path_parameters[name] = candidates[index]

    def admin_key(self) -> str:
        """A plaintext we hold whose key is still a usable, unscoped admin from 127.0.0.1."""
        now = utcnow()
        for plaintext in self.plaintexts:
            key = self.key_repo.find_by_hash(hash_key(plaintext, self.settings.api_key_pepper))
            if key and key.role is Role.ADMIN and key.is_usable(now) and not key.is_scoped():
                if key.allows_ip("127.0.0.1"):
                    return plaintext
        return self.plaintexts[0]

    def learn(self, response: Any) -> None:
        """Keep the plaintext of a key the fuzzer just created."""
        if response.status_code == 201 and response.request.url.endswith("/api/auth/api-keys"):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("apiKey"), str):
                self.plaintexts.append(body["apiKey"])

    def assert_not_locked_out(self, case: Case) -> None:
        now = utcnow()
        admins = [
            key
            for key in self.key_repo.all()
            if key.role is Role.ADMIN and key.is_usable(now) and not key.is_scoped()
        ]
        assert admins, f"no usable admin key left after {case.method} {case.formatted_path}"


@pytest.fixture
def world(make_settings: Callable[..., Settings], redis_conn: Redis, master_key: str) -> World:
    # Runner commands (logout, pairing code) time out fast: no runner is running here.
    settings = make_settings(runner_command_timeout_seconds=0.2)
    world = World(create_app(settings), settings, redis_conn, master_key)
    world.seed()
    return world


@pytest.fixture
def api_schema(world: World) -> Any:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", world.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented_for_an_admin(case: Case, world: World) -> None:
    world.aim_at_existing(case)
    # Our key overrides any X-API-Key the generator made up; the X-API-Key header wins over Bearer.
    response = case.call(headers={"X-API-Key": world.admin_key()})
    world.learn(response)
    case.validate_response(response, checks=CHECKS)
    assert response.headers.get("X-Request-ID"), "every response carries X-Request-ID"
    world.assert_not_locked_out(case)


@schema.parametrize()
@SMOKE
def test_every_operation_answers_as_documented_without_a_valid_key(case: Case, world: World) -> None:
    # Whatever credentials the generator sends (none, or made-up ones) are not a key the gateway knows.
    world.aim_at_existing(case)
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    if case.operation.definition.raw.get("security") != []:
        assert response.status_code in {400, 401, 404, 405, 413, 415}, response.text
    world.assert_not_locked_out(case)
