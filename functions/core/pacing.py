"""Send pacing: the rules (OpenWA's `SEND_PACING_*` and `SIMULATE_TYPING*`), pure so both the API and the
session process apply the same ones. State lives in `functions.state.pacing`; the session process enforces
them before every send (`runner.pacing`), the API refuses early what it can already know (a spent daily
allowance, an open breaker).

- Warm-up daily cap: a session may send `warmup[age]` messages a UTC day, `age` being whole days since its
  phone was first seen (the last entry applies beyond the schedule). A new account that sends at volume at
  once is the classic ban pattern.
- Cold-reachout daily cap: at most `cold[age]` new conversations a day; a chat is cold when we never sent to
  it successfully and it never wrote to us. Groups, channels and status are never cold. Empty = no rule.
- Failure breaker: `breaker_threshold` consecutive failed sends pause sending for `breaker_cooldown_ms`
  (a run of refusals usually means WhatsApp already distrusts the account; pushing on makes it worse).
- Typing simulation (text only, not bulk): "typing…" for `min(max, 500 + 45 ms per character)` ±15 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from functions.core.errors import TooManyRequests

if TYPE_CHECKING:
    from functions.config import Settings

DEFAULT_WARMUP_SCHEDULE = (20, 40, 80, 160, 320, 640, 1000)
DEFAULT_COLD_SCHEDULE = (5, 10, 20, 40, 60, 80, 100)
TYPING_BASE_MS = 500
TYPING_PER_CHAR_MS = 45
TYPING_JITTER = 0.15


class PacingRule(StrEnum):
    """Which rule refused a send (OpenWA's `openwa_send_pacing_refusals_total{reason}` values)."""

    BREAKER_OPEN = "breaker_open"
    DAILY_CAP = "daily_cap"
    COLD_DAILY_CAP = "cold_daily_cap"


class SendPacingLimited(TooManyRequests):
    """429 `SEND_PACING_LIMITED` (OpenWA's code), with how long the refusal lasts."""

    code, default_message = "SEND_PACING_LIMITED", "Sending is paused by the pacing policy"


@dataclass(frozen=True)
class PacingPolicy:
    enabled: bool = False
    warmup: tuple[int, ...] = DEFAULT_WARMUP_SCHEDULE
    cold: tuple[int, ...] = DEFAULT_COLD_SCHEDULE
    breaker_threshold: int = 5
    breaker_cooldown_ms: int = 15 * 60_000
    simulate_typing: bool = True
    typing_max_ms: int = 5000

    @classmethod
    def from_settings(cls, settings: Settings) -> PacingPolicy:
        return cls(
            enabled=settings.send_pacing_enabled,
            warmup=tuple(int(cap) for cap in settings.send_pacing_warmup_schedule),
            cold=tuple(int(cap) for cap in settings.send_pacing_cold_daily_cap),
            breaker_threshold=settings.send_pacing_breaker_threshold,
            breaker_cooldown_ms=settings.send_pacing_breaker_cooldown_ms,
            simulate_typing=settings.simulate_typing,
            typing_max_ms=settings.simulate_typing_max_ms,
        )


@dataclass(frozen=True)
class PacingCounts:
    """What the state says about a session (and one chat) when a send is checked."""

    day: str | None = None  # the UTC day `sent` and `cold` count, ISO
    sent: int = 0
    cold: int = 0
    open_until_ms: int = 0  # the breaker is open until then (epoch ms); 0 = closed
    first_seen: date | None = None  # the day the session's phone was first seen
    chat_known: bool = True  # the chat is not a cold reachout

    def today(self, now: datetime) -> tuple[int, int]:
        """`(sent, cold)` for the UTC day of `now` (0 when the counts are of an earlier day)."""
        return (self.sent, self.cold) if self.day == utc_day(now).isoformat() else (0, 0)


@dataclass(frozen=True)
class Refusal:
    rule: PacingRule
    retry_after_seconds: int
    message: str
    allowance: int | None = None

    def error(self) -> SendPacingLimited:
        details = {"rule": self.rule.value, "retryAfterSeconds": self.retry_after_seconds}
        if self.allowance is not None:
            details["allowance"] = self.allowance
        return SendPacingLimited(self.message, retry_after_seconds=self.retry_after_seconds, details=details)

    def as_error(self) -> dict[str, object]:
        """The `error` of a message this refusal failed."""
        return {
            "code": SendPacingLimited.code,
            "message": self.message,
            "rule": self.rule.value,
            "retryAfterSeconds": self.retry_after_seconds,
        }


def utc_day(now: datetime) -> date:
    return now.astimezone(UTC).date()


def age_days(first_seen: date | None, now: datetime) -> int:
    """Whole UTC days since the phone was first seen (0 on that day, and when it was never seen)."""
    return max(0, (utc_day(now) - first_seen).days) if first_seen else 0


def allowance(schedule: tuple[int, ...], age: int) -> int:
    """The schedule's entry for `age`, saturating at its last entry."""
    return schedule[min(max(age, 0), len(schedule) - 1)]


def seconds_until_next_utc_day(now: datetime) -> int:
    tomorrow = datetime.combine(utc_day(now) + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, math.ceil((tomorrow - now).total_seconds()))


def is_reachable_contact(chat_id: str) -> bool:
    """Chats a cold reachout can be made to: people (`@c.us`, `@lid`), not groups, channels or status."""
    return chat_id.endswith(("@c.us", "@lid"))


def check(policy: PacingPolicy, counts: PacingCounts, now: datetime, *, cold: bool) -> Refusal | None:
    """The refusal of a send now, or None. `cold`: the send would open a new conversation."""
    if not policy.enabled:
        return None
    now_ms = int(now.timestamp() * 1000)
    if counts.open_until_ms > now_ms:
        wait = max(1, math.ceil((counts.open_until_ms - now_ms) / 1000))
        message = "Sends are paused after a run of consecutive send failures"
        return Refusal(PacingRule.BREAKER_OPEN, wait, message)
    age = age_days(counts.first_seen, now)
    sent, cold_today = counts.today(now)
    daily = allowance(policy.warmup, age)
    if sent >= daily:
        message = f"Daily send allowance of {daily} reached for an account {age} day(s) old"
        return Refusal(PacingRule.DAILY_CAP, seconds_until_next_utc_day(now), message, daily)
    if cold and policy.cold:
        cap = allowance(policy.cold, age)
        if cold_today >= cap:
            message = f"Daily allowance of {cap} new conversation(s) reached for an account {age} day(s) old"
            return Refusal(PacingRule.COLD_DAILY_CAP, seconds_until_next_utc_day(now), message, cap)
    return None


def check_reachouts(policy: PacingPolicy, counts: PacingCounts, now: datetime, cold: int) -> Refusal | None:
    """The refusal of `cold` new reach-outs at once (a group created with people, people added to one:
    upstream charges each to the cold-reachout allowance), or None."""
    refusal = check(policy, counts, now, cold=cold > 0)
    if refusal is not None or cold == 0 or not policy.enabled or not policy.cold:
        return refusal
    cap, used = allowance(policy.cold, age_days(counts.first_seen, now)), counts.today(now)[1]
    if used + cold > cap:
        message = f"{cold} new contact(s) would pass the daily allowance of {cap} ({used} used)"
        return Refusal(PacingRule.COLD_DAILY_CAP, seconds_until_next_utc_day(now), message, cap)
    return None


def typing_ms(policy: PacingPolicy, text: str, rand: float) -> int:
    """Milliseconds of "typing…" before sending `text` (0 = none); `rand`, uniform in [0, 1), jitters it."""
    if not (policy.enabled and policy.simulate_typing) or policy.typing_max_ms <= 0:
        return 0
    planned = min(policy.typing_max_ms, TYPING_BASE_MS + TYPING_PER_CHAR_MS * len(text))
    jittered = round(planned * (1 - TYPING_JITTER + 2 * TYPING_JITTER * rand))
    return min(policy.typing_max_ms, max(0, jittered))
