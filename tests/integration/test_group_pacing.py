"""Creating a group with people and adding people to one are reach-outs (upstream charges them to the
cold-reachout allowance): with pacing on, the API refuses at once what would pass the day's allowance, and
counts the new contacts of a reach-out once (real Redis, no runner: a request that passes pacing waits for
a runner and times out, 504)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis import Redis

from functions.api.app import create_app
from functions.core.pacing import PacingCounts
from functions.state.keys import Keys
from functions.state.pacing import PacingState
from tests.integration.test_bulk_and_pacing_api import PACED, ready_session

BOB, CAROL, DAVE = "15550002222@c.us", "15550003333@c.us", "15550004444@c.us"
GROUP = "120363040000000001@g.us"


def test_new_people_past_the_cold_allowance_are_429_and_known_ones_pass(
    make_settings: Any, admin_headers: dict[str, str], redis_conn: Redis
) -> None:
    settings = make_settings(
        **{**PACED, "send_pacing_warmup_schedule": "100", "send_pacing_cold_daily_cap": "2"}
    )
    client = create_app(settings.model_copy(update={"runner_command_timeout_seconds": 0.2})).test_client()
    session_id = ready_session(client, admin_headers, redis_conn)
    state, today = PacingState(redis_conn, Keys("openwa")), datetime.now(UTC).date()
    state.record_sent(session_id, BOB, day=today, cold=True)  # Bob: known, and one cold reach-out spent

    create = {"name": "Team", "participants": [BOB, CAROL, DAVE]}
    refused = client.post(f"/api/sessions/{session_id}/groups", json=create, headers=admin_headers)
    assert (refused.status_code, refused.json["code"]) == (429, "SEND_PACING_LIMITED")
    assert (refused.json["details"]["rule"], refused.json["details"]["allowance"]) == ("cold_daily_cap", 2)
    add = client.post(
        f"/api/sessions/{session_id}/groups/{GROUP}/participants",
        json={"participants": [BOB, CAROL]},
        headers=admin_headers,
    )
    assert add.status_code == 504  # one new person fits: on to the (absent) runner
    assert state.read(session_id, phone=None, chat_id=None).cold == 1  # nothing counted before WhatsApp adds


def test_a_reach_out_counts_each_new_contact_once(redis_conn: Redis) -> None:
    state, today = PacingState(redis_conn, Keys("openwa")), datetime.now(UTC).date()
    state.record_reachouts("s1", [BOB, CAROL], day=today)
    state.record_reachouts("s1", [CAROL, DAVE], day=today)
    counts: PacingCounts = state.read("s1", phone=None, chat_id=None)
    assert (counts.cold, counts.sent) == (3, 0)
    assert state.unknown_chats("s1", [BOB, "15550005555@c.us"]) == ["15550005555@c.us"]
