"""OpenWA's reconnect policy: exponential backoff, a loop event every 5th attempt, a budget, a reset."""

from __future__ import annotations

from runner.reconnect import MAX_DELAY_SECONDS, STABLE_RESET_SECONDS, ReconnectPolicy


def test_delays_double_from_the_base_with_under_a_second_of_jitter_capped_at_an_hour() -> None:
    policy = ReconnectPolicy(base_delay_ms=5000)
    for attempt, base in enumerate([5, 10, 20, 40]):
        assert base <= policy.delay(attempt) < base + 1
    assert policy.delay(30) == MAX_DELAY_SECONDS


def test_attempts_come_due_after_the_delay_and_every_fifth_fires_the_loop_event() -> None:
    policy = ReconnectPolicy(base_delay_ms=1000)
    policy.disconnected(now=0.0)
    assert not policy.due(now=0.5)
    assert policy.due(now=2.0)
    fired = [policy.attempted(now=float(n)) for n in range(1, 11)]
    assert [n for n, loop in enumerate(fired, start=1) if loop] == [5, 10]


def test_a_budget_stops_attempts_and_zero_disables_them() -> None:
    limited = ReconnectPolicy(base_delay_ms=0, max_attempts=2)
    limited.disconnected(now=0.0)
    limited.attempted(now=1.0)
    limited.attempted(now=2.0)
    assert limited.exhausted
    assert not limited.due(now=100.0)
    disabled = ReconnectPolicy(base_delay_ms=0, max_attempts=0)
    disabled.disconnected(now=0.0)
    assert not disabled.due(now=100.0)


def test_five_minutes_of_stability_resets_the_attempt_counter() -> None:
    policy = ReconnectPolicy(base_delay_ms=0)
    policy.disconnected(now=0.0)
    policy.attempted(now=1.0)
    policy.connected(now=2.0)
    policy.connected(now=2.0 + STABLE_RESET_SECONDS - 1)
    assert policy.attempts == 1
    policy.connected(now=2.0 + STABLE_RESET_SECONDS)
    assert policy.attempts == 0
