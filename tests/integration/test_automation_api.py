"""Auto-reply rules (issue 18): CRUD per session with upstream's limits, bad input refused per route with a
code and nothing changed, and the decision the auto-reply job makes for one inbound message (first matching
rule, cooldown per rule and chat in Redis, never our own messages, groups only when allowed, one reply per
message however often the job runs). Real Redis and the real app; the live story with a phone is
`tests/runner/test_auto_reply.py`."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from functions.config import Settings
from functions.core.enums import SessionStatus
from functions.queueing import AUTO_REPLY_JOB, DEFAULT_QUEUE, session_queue
from functions.services.automation import AutomationService, AutoReplier
from functions.services.messages import MessageService
from functions.state.automation_rules import AutomationRuleRepository
from functions.state.keys import Keys
from functions.state.messages import MessageRepository
from functions.state.session_data import purge_session, session_keys
from functions.state.sessions import SessionRepository
from functions.state.templates import TemplateRepository
from functions.storage import build_storage
from functions.webhooks.dispatch import publish_event

BOB = "15550002222@c.us"
GROUP = "120363000000000001@g.us"
PRICES = {
    "name": "Prices",
    "replyText": "Our prices: https://example.com/prices",
    "conditions": [{"field": "body", "operator": "contains", "value": "price"}],
    "cooldownSeconds": 300,
}


@pytest.fixture
def session_id(client: FlaskClient, admin_headers: dict[str, str]) -> str:
    created = client.post("/api/sessions", json={"name": "automated"}, headers=admin_headers)
    assert created.status_code == 201
    return str(created.get_json()["id"])


def _rules(session_id: str) -> str:
    return f"/api/sessions/{session_id}/automation-rules"


def test_a_rule_is_created_with_upstreams_defaults_read_listed_updated_and_deleted(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str
) -> None:
    created = client.post(
        _rules(session_id), json={"name": "Hi", "replyText": "Hello!"}, headers=admin_headers
    )
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert {
        k: rule[k] for k in ("sessionId", "enabled", "conditions", "cooldownSeconds", "includeGroups")
    } == {
        "sessionId": session_id,
        "enabled": True,
        "conditions": [],
        "cooldownSeconds": 60,
        "includeGroups": False,
    }
    one = f"{_rules(session_id)}/{rule['id']}"
    assert client.get(one, headers=admin_headers).get_json() == rule
    assert client.get(_rules(session_id), headers=admin_headers).get_json() == [rule]

    paused = client.put(one, json={"enabled": False, "cooldownSeconds": 0}, headers=admin_headers)
    assert paused.status_code == 200
    assert (paused.get_json()["enabled"], paused.get_json()["cooldownSeconds"]) == (False, 0)
    assert paused.get_json()["replyText"] == "Hello!"

    assert client.delete(one, headers=admin_headers).status_code == 204
    gone = client.get(one, headers=admin_headers)
    assert (gone.status_code, gone.get_json()["code"]) == (404, "AUTOMATION_RULE_NOT_FOUND")
    assert client.delete(one, headers=admin_headers).status_code == 404
    assert client.get(_rules(session_id), headers=admin_headers).get_json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"replyText": "no name"},
        {"name": "no reply"},
        {"name": "both", "replyText": "x", "templateId": "t"},
        {"name": "", "replyText": "x"},
        {"name": "   ", "replyText": "x"},
        {"name": "n" * 101, "replyText": "x"},
        {"name": "long", "replyText": "r" * 4097},
        {"name": "empty", "replyText": ""},
        {"name": "cool", "replyText": "x", "cooldownSeconds": -1},
        {"name": "cool", "replyText": "x", "cooldownSeconds": 86_401},
        {"name": "cool", "replyText": "x", "cooldownSeconds": "60"},
        {"name": "on", "replyText": "x", "enabled": "yes"},
        {"name": "groups", "replyText": "x", "includeGroups": 1},
        {
            "name": "field",
            "replyText": "x",
            "conditions": [{"field": "colour", "operator": "is", "value": "x"}],
        },
        {
            "name": "op",
            "replyText": "x",
            "conditions": [{"field": "fromMe", "operator": "contains", "value": True}],
        },
        {"name": "shape", "replyText": "x", "conditions": {"conditions": []}},
        {"name": "extra", "replyText": "x", "colour": "red"},
    ],
)
def test_a_bad_rule_is_400_and_nothing_is_stored(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, body: dict[str, Any]
) -> None:
    refused = client.post(_rules(session_id), json=body, headers=admin_headers)
    assert (refused.status_code, refused.get_json()["code"]) == (400, "VALIDATION_ERROR")
    assert client.get(_rules(session_id), headers=admin_headers).get_json() == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({}, "VALIDATION_ERROR"),
        ({"cooldownSeconds": 90_000}, "VALIDATION_ERROR"),
        ({"replyText": None}, "VALIDATION_ERROR"),  # the rule would have no reply
        ({"replyText": "x", "templateId": "y"}, "VALIDATION_ERROR"),
        ({"templateId": "no-such-template"}, "TEMPLATE_NOT_FOUND"),
        ({"id": "another"}, "VALIDATION_ERROR"),
    ],
)
def test_a_bad_update_is_refused_with_a_code_and_changes_nothing(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, change: dict[str, Any], code: str
) -> None:
    rule = client.post(_rules(session_id), json=PRICES, headers=admin_headers).get_json()
    refused = client.put(f"{_rules(session_id)}/{rule['id']}", json=change, headers=admin_headers)
    assert refused.status_code in (400, 404)
    assert refused.get_json()["code"] == code
    assert client.get(f"{_rules(session_id)}/{rule['id']}", headers=admin_headers).get_json() == rule


def test_a_template_reply_must_render_and_switching_reply_kinds_drops_the_other(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str
) -> None:
    template = client.post(
        f"/api/sessions/{session_id}/templates",
        json={"name": "welcome", "body": "Hi {{name}}, we answer within a day."},
        headers=admin_headers,
    ).get_json()
    missing = client.post(
        _rules(session_id), json={"name": "T", "templateId": template["id"]}, headers=admin_headers
    )
    assert (missing.status_code, missing.get_json()["code"]) == (400, "TEMPLATE_VARIABLE_MISSING")
    unknown = client.post(_rules(session_id), json={"name": "T", "templateId": "nope"}, headers=admin_headers)
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "TEMPLATE_NOT_FOUND")
    assert client.get(_rules(session_id), headers=admin_headers).get_json() == []

    body = {"name": "T", "templateId": template["id"], "templateVars": {"name": "there"}}
    rule = client.post(_rules(session_id), json=body, headers=admin_headers).get_json()
    assert (rule["replyText"], rule["templateVars"]) == (None, {"name": "there"})
    text = client.put(
        f"{_rules(session_id)}/{rule['id']}", json={"replyText": "Hello"}, headers=admin_headers
    )
    assert (text.get_json()["templateId"], text.get_json()["templateVars"]) == (None, {})


def test_rules_need_a_session_an_operator_and_stop_at_the_per_session_limit(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, make_settings: Any
) -> None:
    missing = client.post(_rules("no-such-session"), json=PRICES, headers=admin_headers)
    assert (missing.status_code, missing.get_json()["code"]) == (404, "SESSION_NOT_FOUND")
    assert client.get(_rules("no-such-session"), headers=admin_headers).status_code == 404

    viewer_key = client.post(
        "/api/auth/api-keys", json={"name": "viewer-key", "role": "viewer"}, headers=admin_headers
    ).get_json()["apiKey"]
    viewer = {"X-API-Key": viewer_key}
    assert client.get(_rules(session_id), headers=viewer).get_json()["code"] == "FORBIDDEN"
    assert client.post(_rules(session_id), json=PRICES, headers=viewer).status_code == 403

    from functions.api.app import create_app

    small = create_app(make_settings(automation_max_per_session=2)).test_client()
    for _ in range(2):
        assert small.post(_rules(session_id), json=PRICES, headers=admin_headers).status_code == 201
    full = small.post(_rules(session_id), json=PRICES, headers=admin_headers)
    assert (full.status_code, full.get_json()["code"]) == (409, "AUTOMATION_RULE_LIMIT_REACHED")
    assert len(small.get(_rules(session_id), headers=admin_headers).get_json()) == 2


def test_a_deleted_sessions_rules_and_cooldowns_are_purged_with_it(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, settings: Settings, redis_conn: Redis
) -> None:
    rule = client.post(_rules(session_id), json=PRICES, headers=admin_headers).get_json()
    keys = Keys(settings.redis_prefix)
    AutomationRuleRepository(redis_conn, keys).claim_cooldown(session_id, rule["id"], BOB, "m1", 60)
    named = session_keys(redis_conn, keys, session_id)
    assert any(":automation-rule:" in name for name in named)
    assert any(":auto-reply-cooldown:" in name for name in named)

    assert client.delete(f"/api/sessions/{session_id}", headers=admin_headers).status_code == 204
    purge_session(redis_conn, keys, session_id)
    left = [
        name
        for name in map(bytes.decode, redis_conn.keys("*"))
        if "automation" in name or "auto-reply" in name
    ]
    assert left == []


# The job's decision, against real Redis


class Replies:
    """A ready session, its stored inbound messages and the AutoReplier the job runs."""

    def __init__(self, settings: Settings, redis_conn: Redis, session_id: str) -> None:
        self.settings, self.conn, self.session_id = settings, redis_conn, session_id
        keys = Keys(settings.redis_prefix)
        sessions = SessionRepository(redis_conn, keys)
        sessions.update(session_id, status=SessionStatus.READY)
        self.messages = MessageRepository(redis_conn, keys, retention_seconds=86_400)
        storage = build_storage(settings)
        sends = MessageService(settings, redis_conn, keys, sessions, self.messages, lambda: storage)
        self.rules = AutomationRuleRepository(redis_conn, keys)
        automation = AutomationService(
            sessions, self.rules, TemplateRepository(redis_conn, keys), max_per_session=32
        )
        self.replier = AutoReplier(self.rules, automation, self.messages, sends)
        self._seq = 0

    def inbound(self, body: str, *, chat: str = BOB, from_me: bool = False) -> str:
        self._seq += 1
        message_id = f"false_{chat}_3EB0{self._seq:016X}"
        self.messages.create_if_absent(
            {
                "id": message_id,
                "sessionId": self.session_id,
                "chatId": chat,
                "from": BOB,
                "to": "15550001111@c.us",
                "body": body,
                "type": "text",
                "direction": "outgoing" if from_me else "incoming",
                "fromMe": from_me,
                "isGroup": chat.endswith("@g.us"),
                "timestamp": int(time.time()),
                "status": "delivered",
                "hasMedia": False,
                "metadata": None,
            }
        )
        return message_id

    def sent(self) -> list[str]:
        """The texts queued as sends (the session's send jobs' records), oldest first."""
        jobs = session_queue(self.conn, self.session_id).jobs
        return [str(self.messages.get(self.session_id, job.args[1])["body"]) for job in jobs]


@pytest.fixture
def replies(settings: Settings, redis_conn: Redis, session_id: str) -> Replies:
    return Replies(settings, redis_conn, session_id)


def test_the_first_matching_rule_answers_once_per_message_and_then_cools_down_per_chat(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, replies: Replies
) -> None:
    client.post(_rules(session_id), json=PRICES, headers=admin_headers)
    client.post(
        _rules(session_id), json={"name": "Any", "replyText": "We will answer soon."}, headers=admin_headers
    )

    first = replies.inbound("What is the PRICE?")
    assert replies.replier.answer(session_id, first) == "replied"
    # The job again (a retry, a re-fan-out): the cooldown is this message's and the send's key answers.
    assert replies.replier.answer(session_id, first) == "replied"
    assert replies.sent() == ["Our prices: https://example.com/prices"]

    assert replies.replier.answer(session_id, replies.inbound("price again?")) == "cooling-down"
    # Another chat has its own cooldown; a message no earlier rule takes goes to the next.
    assert replies.replier.answer(session_id, replies.inbound("price?", chat="15550003333@c.us")) == "replied"
    assert replies.replier.answer(session_id, replies.inbound("hello")) == "replied"
    assert replies.sent()[1:] == ["Our prices: https://example.com/prices", "We will answer soon."]


def test_own_messages_groups_and_disabled_rules_get_no_reply(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, replies: Replies
) -> None:
    rule = client.post(
        _rules(session_id),
        json={"name": "Any", "replyText": "Hi", "cooldownSeconds": 0},
        headers=admin_headers,
    ).get_json()
    assert replies.replier.answer(session_id, replies.inbound("mine", from_me=True)) == "no-rule"
    assert replies.replier.answer(session_id, replies.inbound("in a group", chat=GROUP)) == "no-rule"
    assert replies.replier.answer(session_id, "false_x_3EB0FFFFFFFFFFFFFFFF") == "no-message"
    assert replies.sent() == []

    one = f"{_rules(session_id)}/{rule['id']}"
    client.put(one, json={"includeGroups": True}, headers=admin_headers)
    assert replies.replier.answer(session_id, replies.inbound("in a group", chat=GROUP)) == "replied"
    client.put(one, json={"enabled": False}, headers=admin_headers)
    assert replies.replier.answer(session_id, replies.inbound("hello")) == "no-rule"
    assert replies.sent() == ["Hi"]


def test_a_refused_reply_frees_the_cooldown_for_the_next_message(
    client: FlaskClient, admin_headers: dict[str, str], session_id: str, replies: Replies, settings: Settings
) -> None:
    client.post(_rules(session_id), json=PRICES, headers=admin_headers)
    sessions = SessionRepository(replies.conn, Keys(settings.redis_prefix))
    sessions.update(session_id, status=SessionStatus.DISCONNECTED)
    assert replies.replier.answer(session_id, replies.inbound("price?")) == "refused"
    sessions.update(session_id, status=SessionStatus.READY)
    assert replies.replier.answer(session_id, replies.inbound("price?")) == "replied"
    assert len(replies.sent()) == 1


def test_an_inbound_event_queues_the_auto_reply_job_only_for_a_session_with_rules(
    client: FlaskClient,
    admin_headers: dict[str, str],
    session_id: str,
    settings: Settings,
    redis_conn: Redis,
) -> None:
    default = Queue(DEFAULT_QUEUE, connection=redis_conn)
    publish_event(redis_conn, settings, session_id, "message.received", {"id": "false_a_3EB01", "body": "x"})
    assert default.jobs == []

    client.post(_rules(session_id), json=PRICES, headers=admin_headers)
    publish_event(redis_conn, settings, session_id, "message.received", {"id": "false_a_3EB02", "body": "x"})
    publish_event(redis_conn, settings, session_id, "message.ack", {"id": "false_a_3EB02", "ack": 2})
    [job] = default.jobs
    assert (job.func_name, job.args) == (AUTO_REPLY_JOB, (session_id, "false_a_3EB02"))
    assert job.retries_left == 3
