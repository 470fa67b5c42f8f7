"""The official OpenWA Python SDK, unchanged, keeps and sends message templates on a live gateway (gunicorn,
real Redis): `client.templates` and `client.messages.send_template`, and reads the statistics through
`client.request` (the SDK has no resource for them) (issue 18)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from openwa import OpenWAApiError, OpenWAConflictError, OpenWANotFoundError
from redis import Redis

from functions.core.enums import SessionStatus
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository

if TYPE_CHECKING:
    from tests.e2e.conftest import Gateway

pytestmark = pytest.mark.e2e

ANA = "15550001111@c.us"


def test_a_template_is_kept_rendered_and_sent_through_the_sdk(gateway: Gateway) -> None:
    client = gateway.client()
    session = client.sessions.create({"name": "templates"})
    # No runner here: mark the session ready as a runner would once WhatsApp Web is linked.
    conn = Redis.from_url(gateway.settings.redis_url)
    try:
        repo = SessionRepository(conn, Keys(gateway.settings.redis_prefix))
        repo.update(session["id"], status=SessionStatus.READY)
    finally:
        conn.close()

    template = client.templates.create(
        session["id"], {"name": "welcome", "body": "Welcome, {{name}}!", "header": "Acme"}
    )
    assert client.templates.list(session["id"]) == [template]
    with pytest.raises(OpenWAConflictError):
        client.templates.create(session["id"], {"name": "welcome", "body": "again"})
    updated = client.templates.update(session["id"], template["id"], {"body": "Hello, {{name}}!"})
    assert client.templates.get(session["id"], template["id"]) == updated

    body = {"chatId": ANA, "templateName": "welcome", "vars": {"name": "Ana"}}
    sent = client.messages.send_template(session["id"], body, idempotency_key="welcome-ana")
    again = client.messages.send_template(session["id"], body, idempotency_key="welcome-ana")
    assert again == sent
    record = client.request("GET", f"/api/sessions/{session['id']}/messages/{ANA}/{sent['messageId']}")
    assert record["body"] == "Acme\n\nHello, Ana!"

    with pytest.raises(OpenWAApiError) as missing:
        client.messages.send_template(session["id"], {"chatId": ANA, "templateId": template["id"]})
    assert (missing.value.status, missing.value.code) == (400, "TEMPLATE_VARIABLE_MISSING")
    assert "name" in str(missing.value)

    client.templates.delete(session["id"], template["id"])
    with pytest.raises(OpenWANotFoundError):
        client.templates.get(session["id"], template["id"])

    # Nothing was sent yet (no runner): the statistics show the ready session and no traffic.
    overview = client.request("GET", "/api/stats/overview")
    assert overview["sessions"]["active"] == 1
    assert overview["messages"]["today"] == {"sent": 0, "received": 0}
    mine = client.request("GET", f"/api/stats/sessions/{session['id']}")
    assert (mine["session"]["status"], len(mine["hourlyActivity"])) == ("ready", 24)
    week = client.request("GET", "/api/stats/messages", query={"period": "7d"})
    assert len(week["timeSeries"]) == 7
