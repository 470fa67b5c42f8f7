"""The send pacing rules (OpenWA's SEND_PACING_* and SIMULATE_TYPING*), as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from functions.core.pacing import (
    PacingCounts,
    PacingPolicy,
    PacingRule,
    SendPacingLimited,
    allowance,
    check,
    is_reachable_contact,
    typing_ms,
)

NOW = datetime(2026, 3, 10, 22, 0, 0, tzinfo=UTC)  # two hours before the next UTC day
TODAY = "2026-03-10"
ON = PacingPolicy(
    enabled=True, warmup=(2, 5, 10), cold=(1, 3), breaker_threshold=2, breaker_cooldown_ms=60_000
)


def counts(**fields: object) -> PacingCounts:
    return PacingCounts(**{"day": TODAY, "first_seen": date(2026, 3, 10), **fields})  # type: ignore[arg-type]


def test_allowance_grows_with_age_and_saturates_at_the_last_entry() -> None:
    assert [allowance((2, 5, 10), age) for age in (0, 1, 2, 3, 400)] == [2, 5, 10, 10, 10]


def test_nothing_is_refused_while_pacing_is_disabled() -> None:
    spent = counts(sent=10_000, cold=10_000, open_until_ms=2**50)
    assert check(PacingPolicy(enabled=False), spent, NOW, cold=True) is None


def test_the_warm_up_cap_of_a_new_account_refuses_until_the_next_utc_day() -> None:
    assert check(ON, counts(sent=1), NOW, cold=False) is None
    refusal = check(ON, counts(sent=2), NOW, cold=False)
    assert refusal is not None
    assert (refusal.rule, refusal.allowance, refusal.retry_after_seconds) == (PacingRule.DAILY_CAP, 2, 7200)


def test_an_older_account_gets_the_allowance_of_its_age() -> None:
    two_days_old = counts(sent=9, first_seen=date(2026, 3, 8))
    assert check(ON, two_days_old, NOW, cold=False) is None
    assert check(ON, counts(sent=9, first_seen=None), NOW, cold=False) is not None  # never seen: day 0


def test_counts_of_an_earlier_day_do_not_count_today() -> None:
    assert check(ON, counts(sent=99, cold=99, day="2026-03-09"), NOW, cold=True) is None


def test_a_new_conversation_over_the_cold_cap_is_refused_but_a_known_chat_is_not() -> None:
    at_cap = counts(sent=1, cold=1)
    refusal = check(ON, at_cap, NOW, cold=True)
    assert refusal is not None
    assert (refusal.rule, refusal.allowance) == (PacingRule.COLD_DAILY_CAP, 1)
    assert check(ON, at_cap, NOW, cold=False) is None
    no_cold_rule = PacingPolicy(enabled=True, warmup=(2,), cold=())
    assert check(no_cold_rule, at_cap, NOW, cold=True) is None


def test_an_open_breaker_refuses_for_the_rest_of_its_cool_down() -> None:
    now_ms = int(NOW.timestamp() * 1000)
    refusal = check(ON, counts(open_until_ms=now_ms + 30_500), NOW, cold=False)
    assert refusal is not None
    assert (refusal.rule, refusal.retry_after_seconds) == (PacingRule.BREAKER_OPEN, 31)
    assert check(ON, counts(open_until_ms=now_ms - 1), NOW, cold=False) is None


def test_a_refusal_is_a_429_send_pacing_limited_with_its_wait() -> None:
    refusal = check(ON, counts(sent=2), NOW, cold=False)
    assert refusal is not None
    error = refusal.error()
    assert isinstance(error, SendPacingLimited)
    assert (error.status, error.code, error.retry_after_seconds) == (429, "SEND_PACING_LIMITED", 7200)
    assert refusal.as_error()["code"] == "SEND_PACING_LIMITED"


def test_typing_lasts_with_the_text_within_its_bound_and_jitter() -> None:
    policy = PacingPolicy(enabled=True, typing_max_ms=5000)
    assert typing_ms(policy, "hello", 0.5) == 500 + 45 * 5
    assert typing_ms(policy, "hello", 0.0) == round(725 * 0.85)
    assert typing_ms(policy, "hello", 0.999999) == round(725 * 1.15)
    assert typing_ms(policy, "x" * 1000, 0.999999) == 5000  # bounded, jitter included


@pytest.mark.parametrize(
    "policy",
    [PacingPolicy(enabled=False), PacingPolicy(enabled=True, simulate_typing=False)],
)
def test_no_typing_without_pacing_or_with_simulation_off(policy: PacingPolicy) -> None:
    assert typing_ms(policy, "hello", 0.5) == 0


def test_only_people_can_be_cold_reachouts() -> None:
    assert [is_reachable_contact(c) for c in ("1555@c.us", "99@lid", "1-2@g.us", "status@broadcast")] == [
        True,
        True,
        False,
        False,
    ]
