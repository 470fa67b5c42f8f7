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
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from functions.api.app import create_app
from functions.config import Settings, load_settings
from functions.core.clock import utcnow
from functions.core.enums import Role, SessionStatus
from functions.services.api_keys import ApiKeyService, hash_key
from functions.state.api_keys import ApiKeyRepository
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository

pytestmark = pytest.mark.e2e

# Not `positive_data_acceptance`: a schema-valid request is refused for reasons the document cannot state
# (a session that is not started, an expiry in the past). Not `ignored_auth`: we replace the credentials
# the generator made up with our own key, which that check reads as a bypass.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
]
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    # One app and Redis per operation, shared by its examples; some operations wait on the runner timeout.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    database=None,
)
SMOKE = settings(FUZZ, max_examples=8)
# A QR string as WhatsApp Web encodes it (ref,publicKey,identityKey,advSecret).
QR_STRING = "2@Vh3k9sQ0fakeRef==,yP0wQxHj0v1fakePublicKey=,Zx8fakeIdentityKey=,Q2FkdlNlY3JldA=="


def call(case: Case, world: World, **kwargs: Any) -> Any:
    """Send the case to the app in-process."""
    return case.call(app=world.app, **kwargs)


def checks_for(case: Case, response: Any) -> list[Any]:
    """CHECKS, less `not_a_server_error` for a runner command's documented 504 RUNNER_TIMEOUT (logout,
    pairing code): no runner runs here."""
    excluded: set[Any] = set()
    if response.status_code == 504 and response.json().get("code") == "RUNNER_TIMEOUT":
        excluded.add(not_a_server_error)
    return [check for check in CHECKS if check not in excluded]


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
            usable = key is not None and key.is_usable(now) and key.allows_ip("127.0.0.1")
            if usable and key.role is Role.ADMIN and not key.is_scoped():
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
    # Event streams (SSE) end after 0.2 s, so an in-process (buffering) call returns.
    # Media conversion on (the bundled ffmpeg): switched off, the convert routes answer 503 by design.
    settings = make_settings(
        runner_command_timeout_seconds=0.2, sse_max_seconds=0.2, media_conversion_enabled=True
    )
    world = World(create_app(settings), settings, redis_conn, master_key)
    world.seed()
    return world


def _published_document() -> dict[str, Any]:
    """GET /api/openapi.json of an app built at import. The document depends on no state, so that app's
    Redis is a closed port, never reached (its admin-key seeding just logs a warning)."""
    settings = load_settings(_env_file=None, redis_url="redis://127.0.0.1:1/0", log_level="error")
    response = create_app(settings).test_client().get("/api/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


# Loaded eagerly: `schemathesis.pytest.from_fixture` (4.32.5) reads `Function._nodeid`, gone in pytest 9.
schema = schemathesis.openapi.from_dict(_published_document())


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented_for_an_admin(case: Case, world: World) -> None:
    world.aim_at_existing(case)
    # Our key overrides any X-API-Key the generator made up; the X-API-Key header wins over Bearer.
    response = call(case, world, headers={"X-API-Key": world.admin_key()})
    world.learn(response)
    case.validate_response(response, checks=checks_for(case, response))
    assert response.headers.get("x-request-id"), "every response carries X-Request-ID"
    world.assert_not_locked_out(case)


@schema.parametrize()
@SMOKE
def test_every_operation_answers_as_documented_without_a_valid_key(case: Case, world: World) -> None:
    # Whatever credentials the generator sends (none, or made-up ones) are not a key the gateway knows.
    world.aim_at_existing(case)
    response = call(case, world)
    case.validate_response(response, checks=checks_for(case, response))
    protected = case.operation.definition.raw.get("security") != []
    if protected and case.method.upper() == case.operation.method.upper():
        # 415: the content-type gate runs before authentication, as upstream's middleware does.
        assert response.status_code in {401, 415}, response.text
    world.assert_not_locked_out(case)


def test_a_request_without_a_body_is_refused_only_where_the_document_requires_one(world: World) -> None:
    document = schema.raw_schema
    session_id = world.existing_ids("session_id")[0]
    key_id = next(key.id for key in world.key_repo.all() if key.role is Role.VIEWER)
    client = world.app.test_client()
    mismatches = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            url = path.replace("{session_id}", session_id).replace("{key_id}", key_id)
            url = url.replace("{group_id}", "120363000000000001@g.us")
            response = client.open(url, method=method.upper(), headers={"X-API-Key": world.admin_key()})
            required = operation["requestBody"].get("required", False)
            if required != (response.status_code == 400):
                mismatches.append(f"{method.upper()} {path}: required={required}, got {response.status_code}")
    assert mismatches == []


def test_session_config_values_of_the_wrong_type_are_refused(world: World) -> None:
    client = world.app.test_client()
    headers = {"X-API-Key": world.admin_key()}
    session_id = world.existing_ids("session_id")[0]
    wrong = [
        {"autoRejectCalls": "yes"},
        {"autoRejectCalls": 0},
        {"maxReconnectAttempts": "3"},
        {"maxReconnectAttempts": 2.9},
        {"reconnectBaseDelay": 1500.5},
    ]
    answers = {}
    for number, config in enumerate(wrong):
        created = client.post(
            "/api/sessions", headers=headers, json={"name": f"typed-{number}", "config": config}
        )
        patched = client.patch(f"/api/sessions/{session_id}/config", headers=headers, json=config)
        answers[str(config)] = (created.status_code, patched.status_code)
    assert answers == {str(config): (400, 400) for config in wrong}
