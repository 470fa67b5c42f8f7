"""Message templates (issue 18): CRUD per session with unique names, and send-template, which renders a
template and sends the text exactly as send-text does (record, job, Idempotency-Key)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from functions.config import Settings
from functions.core.enums import SessionStatus
from functions.queueing import session_queue
from functions.state.keys import Keys
from functions.state.session_data import purge_session, session_keys
from functions.state.sessions import SessionRepository

BOB = "15550002222@c.us"
SHIPPED = {"name": "shipped", "body": "Hi {{name}}, order {{ order }} is on its way.", "footer": "Acme"}


@pytest.fixture
def session_id(client: FlaskClient, admin_headers: dict[str, str]) -> str:
    created = client.post("/api/sessions", json={"name": "templated"}, headers=admin_headers)
    assert created.status_code == 201
    return str(created.get_json()["id"])


def _ready(settings: Settings, redis_conn: Redis, session_id: str) -> None:
    SessionRepository(redis_conn, Keys(settings.redis_prefix)).update(session_id, status=SessionStatus.READY)


def _key(client: FlaskClient, admin_headers: dict[str, str], role: str, **extra: Any) -> dict[str, str]:
    body = {"name": f"{role}-key", "role": role, **extra}
    created = client.post("/api/auth/api-keys", json=body, headers=admin_headers)
    assert created.status_code == 201
    return {"X-API-Key": created.get_json()["apiKey"]}


def test_a_template_is_created_read_listed_updated_and_deleted(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str
) -> None:
    base = f"/api/sessions/{session_id}/templates"
    created = client.post(base, json=SHIPPED, headers=admin_headers)
    assert created.status_code == 201
    template = created.get_json()
    assert template["sessionId"] == session_id
    assert (template["name"], template["header"], template["footer"]) == ("shipped", None, "Acme")
    one = f"{base}/{template['id']}"
    assert client.get(one, headers=admin_headers).get_json() == template
    assert client.get(base, headers=admin_headers).get_json() == [template]

    updated = client.put(one, json={"name": "sent", "footer": None}, headers=admin_headers)
    assert updated.status_code == 200
    assert (updated.get_json()["name"], updated.get_json()["footer"]) == ("sent", None)
    assert updated.get_json()["body"] == SHIPPED["body"]
    # The old name is free again; the new one is taken.
    assert client.post(base, json=SHIPPED, headers=admin_headers).status_code == 201
    taken = client.post(base, json={**SHIPPED, "name": "sent"}, headers=admin_headers)
    assert (taken.status_code, taken.get_json()["code"]) == (409, "TEMPLATE_NAME_TAKEN")
    renamed = client.put(one, json={"name": "shipped"}, headers=admin_headers)
    assert (renamed.status_code, renamed.get_json()["code"]) == (409, "TEMPLATE_NAME_TAKEN")

    assert client.delete(one, headers=admin_headers).status_code == 204
    gone = client.get(one, headers=admin_headers)
    assert (gone.status_code, gone.get_json()["code"]) == (404, "TEMPLATE_NOT_FOUND")
    assert client.delete(one, headers=admin_headers).status_code == 404
    assert [t["name"] for t in client.get(base, headers=admin_headers).get_json()] == ["shipped"]


@pytest.mark.parametrize(
    "body",
    [
        {"body": "no name"},
        {"name": "", "body": "x"},
        {"name": "n" * 101, "body": "x"},
        {"name": "long", "body": "b" * 4097},
        {"name": "head", "body": "x", "header": "h" * 1025},
        {"name": "foot", "body": "x", "footer": 7},
        {"name": "extra", "body": "x", "colour": "red"},
    ],
)
def test_a_bad_template_is_400_and_nothing_is_stored(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, body: dict[str, Any]
) -> None:
    base = f"/api/sessions/{session_id}/templates"
    refused = client.post(base, json=body, headers=admin_headers)
    assert (refused.status_code, refused.get_json()["code"]) == (400, "VALIDATION_ERROR")
    assert client.get(base, headers=admin_headers).get_json() == []


def test_templates_of_a_missing_session_are_404_and_an_empty_update_is_400(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str
) -> None:
    missing = client.post("/api/sessions/no-such-session/templates", json=SHIPPED, headers=admin_headers)
    assert (missing.status_code, missing.get_json()["code"]) == (404, "SESSION_NOT_FOUND")
    template = client.post(f"/api/sessions/{session_id}/templates", json=SHIPPED, headers=admin_headers)
    empty = client.put(
        f"/api/sessions/{session_id}/templates/{template.get_json()['id']}", json={}, headers=admin_headers
    )
    assert empty.status_code == 400


def test_a_viewer_reads_templates_an_operator_writes_and_a_scoped_key_sees_only_its_sessions(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str
) -> None:
    base = f"/api/sessions/{session_id}/templates"
    viewer = _key(client, admin_headers, "viewer")
    operator = _key(client, admin_headers, "operator", allowedSessions=[session_id])
    refused = client.post(base, json=SHIPPED, headers=viewer)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "FORBIDDEN")
    assert client.post(base, json=SHIPPED, headers=operator).status_code == 201
    assert len(client.get(base, headers=viewer).get_json()) == 1

    other = client.post("/api/sessions", json={"name": "other"}, headers=admin_headers).get_json()["id"]
    outside = client.get(f"/api/sessions/{other}/templates", headers=operator)
    assert outside.status_code == 401


def test_send_template_renders_and_sends_like_send_text_with_idempotency(
    client: FlaskClient,
    admin_headers: dict[str, str],
    session_id: str,
    settings: Settings,
    redis_conn: Redis,
) -> None:
    _ready(settings, redis_conn, session_id)
    client.post(f"/api/sessions/{session_id}/templates", json=SHIPPED, headers=admin_headers)
    send = f"/api/sessions/{session_id}/messages/send-template"
    body = {"chatId": BOB, "templateName": "shipped", "vars": {"name": "Ana", "order": "A-1"}}
    headers = {**admin_headers, "Idempotency-Key": "order-A-1"}

    first = client.post(send, json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post(send, json=body, headers=headers)
    assert again.get_json() == first.get_json()
    message_id = first.get_json()["messageId"]
    record = client.get(f"/api/sessions/{session_id}/messages/{BOB}/{message_id}", headers=admin_headers)
    assert record.get_json()["body"] == "Hi Ana, order A-1 is on its way.\n\nAcme"
    assert (record.get_json()["type"], record.get_json()["status"]) == ("text", "pending")
    [job] = session_queue(redis_conn, session_id).jobs
    assert job.args == (session_id, message_id)

    reused = client.post(send, json={**body, "vars": {"name": "Bo", "order": "B"}}, headers=headers)
    assert (reused.status_code, reused.get_json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_a_missing_variable_is_400_naming_it_and_nothing_is_sent(
    client: FlaskClient,
    admin_headers: dict[str, str],
    session_id: str,
    settings: Settings,
    redis_conn: Redis,
) -> None:
    _ready(settings, redis_conn, session_id)
    template = client.post(f"/api/sessions/{session_id}/templates", json=SHIPPED, headers=admin_headers)
    send = f"/api/sessions/{session_id}/messages/send-template"
    by_id = {"chatId": BOB, "templateId": template.get_json()["id"], "vars": {"name": "Ana"}}
    refused = client.post(send, json=by_id, headers=admin_headers)
    assert (refused.status_code, refused.get_json()["code"]) == (400, "TEMPLATE_VARIABLE_MISSING")
    assert "order" in refused.get_json()["message"]
    assert refused.get_json()["details"]["missing"] == ["order"]

    both = {**by_id, "templateName": "shipped"}
    assert client.post(send, json=both, headers=admin_headers).status_code == 400
    unknown = client.post(send, json={"chatId": BOB, "templateName": "nope"}, headers=admin_headers)
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "TEMPLATE_NOT_FOUND")
    assert session_queue(redis_conn, session_id).jobs == []
    listed = client.get(f"/api/sessions/{session_id}/messages", headers=admin_headers).get_json()
    assert listed["total"] == 0


def test_send_template_to_a_session_not_ready_is_409(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str
) -> None:
    client.post(f"/api/sessions/{session_id}/templates", json=SHIPPED, headers=admin_headers)
    body = {"chatId": BOB, "templateName": "shipped", "vars": {"name": "A", "order": "1"}}
    refused = client.post(
        f"/api/sessions/{session_id}/messages/send-template", json=body, headers=admin_headers
    )
    assert (refused.status_code, refused.get_json()["code"]) == (409, "SESSION_NOT_READY")


def test_a_deleted_sessions_templates_are_purged_with_it(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, settings: Settings, redis_conn: Redis
) -> None:
    client.post(f"/api/sessions/{session_id}/templates", json=SHIPPED, headers=admin_headers)
    keys = Keys(settings.redis_prefix)
    named = session_keys(redis_conn, keys, session_id)
    assert any(":template:" in name for name in named)
    assert any(name.endswith(":template-names") for name in named)

    assert client.delete(f"/api/sessions/{session_id}", headers=admin_headers).status_code == 204
    purge_session(redis_conn, keys, session_id)  # what the purge job does

    assert [name for name in map(bytes.decode, redis_conn.keys("*")) if "template" in name] == []
