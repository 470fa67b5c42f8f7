"""Group ids, participant lists, invite codes and per-participant results (`functions.core.groups`), and the
cold reach-outs a group creation or addition costs (`functions.core.pacing.check_reachouts`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from functions.core import groups
from functions.core.errors import ValidationFailed
from functions.core.pacing import PacingCounts, PacingPolicy, PacingRule, check_reachouts

NOW = datetime(2026, 3, 10, 22, 0, 0, tzinfo=UTC)
ON = PacingPolicy(enabled=True, warmup=(100,), cold=(3,))


def test_group_ids_are_the_new_and_the_old_form_only() -> None:
    for good in ("120363040000000001@g.us", "15550001111-1600000000@g.us"):
        assert groups.group_id(good) == good
    for bad in ("15550001111@c.us", "120363@g.us.evil", "abc@g.us", "join", ""):
        with pytest.raises(ValidationFailed) as info:
            groups.group_id(bad)
        assert info.value.details == {"fields": {"groupId": [f"'{bad}' is not a group id (<id>@g.us)"]}}


def test_participants_are_normalised_deduplicated_and_bounded() -> None:
    given = ["+1 (555) 000-1111", "15550001111@s.whatsapp.net", "15550001111", "123456789012345@lid"]
    assert groups.participant_ids(given) == ["15550001111@c.us", "123456789012345@lid"]
    for bad in ([], ["bob"], ["12@c.us"], [f"1555{i:07d}" for i in range(257)]):
        with pytest.raises(ValidationFailed):
            groups.participant_ids(bad)
    assert len(groups.participant_ids([f"1555{i:07d}" for i in range(256)])) == 256


def test_an_invite_is_a_code_or_its_link() -> None:
    for given in (
        "AbCdEf123_-x",
        "https://chat.whatsapp.com/AbCdEf123_-x",
        "chat.whatsapp.com/invite/AbCdEf123_-x",
    ):
        assert groups.invite_code(given) == "AbCdEf123_-x"
    with pytest.raises(ValidationFailed):
        groups.invite_code("https://evil.example/AbCdEf123")


def test_a_partial_refusal_is_a_success_that_says_who_was_refused() -> None:
    rows = [
        {"id": "1@c.us", "status": 200, "message": "OK"},
        {"id": "2@c.us", "status": 409, "message": "member"},
    ]
    result = groups.participants_result(rows)
    assert (result["success"], [r["success"] for r in result["results"]]) == (True, [True, False])
    assert groups.participants_result(rows[1:])["success"] is False


def test_reaching_out_to_more_new_people_than_the_cold_allowance_left_is_refused() -> None:
    counts = PacingCounts(day="2026-03-10", cold=1, first_seen=date(2026, 3, 1))
    assert check_reachouts(ON, counts, NOW, 2) is None
    refusal = check_reachouts(ON, counts, NOW, 3)
    assert refusal is not None
    assert (refusal.rule, refusal.allowance, refusal.retry_after_seconds) == (
        PacingRule.COLD_DAILY_CAP,
        3,
        7200,
    )
    assert check_reachouts(ON, counts, NOW, 0) is None
    assert check_reachouts(PacingPolicy(enabled=False), counts, NOW, 50) is None
