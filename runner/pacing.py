"""Send pacing in the session process (DESIGN §1.2): `functions.core.pacing`'s rules, applied by the outbox
before every send of this session, on counters kept in Redis (`functions.state.pacing`), so a failover or a
restart keeps what the day has already used.

Per send: `admit` (breaker, warm-up cap, cold-reachout cap: a refusal fails the message with
SEND_PACING_LIMITED), `simulate_typing` (texts that are not part of a bulk batch), then `sent` or `failed`,
which feed the counters and the failure breaker. With SEND_PACING_ENABLED off only the phone's first-seen
day is recorded (one write per process), so turning pacing on later gives an account its real age.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from functions.core.chats import Capability
from functions.core.clock import utcnow
from functions.core.errors import DomainError
from functions.core.pacing import PacingPolicy, Refusal, check, is_reachable_contact, typing_ms, utc_day
from functions.state.pacing import PacingState
from runner.engines.base import Engine, EngineError

log = logging.getLogger(__name__)
Run = Callable[[Coroutine[Any, Any, Any], float], Any]
TYPING_CALL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Admitted:
    """A send the policy lets through; `cold` when it opens a new conversation."""

    cold: bool = False


class Pacer:
    """One session's pacing. Called from the outbox, i.e. the worker's main thread, one send at a time."""

    def __init__(
        self,
        state: PacingState,
        policy: PacingPolicy,
        session_id: str,
        *,
        phone: Callable[[], str | None],
        engine: Engine,
        run: Run,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._state, self._policy, self._session_id = state, policy, session_id
        self._phone_source, self._engine, self._run = phone, engine, run
        self._clock, self._rand, self._sleep = clock, rand, sleep
        self._phone: str | None = None
        self._seen: date | None = None

    def admit(self, record: Mapping[str, Any]) -> Admitted | Refusal:
        """Whether stored message `record` may be sent now."""
        now = self._clock()
        phone = self._mark_seen(now)
        if not self._policy.enabled:
            return Admitted()
        chat_id = str(record["chatId"])
        counts = self._state.read(self._session_id, phone=phone, chat_id=chat_id)
        cold = is_reachable_contact(chat_id) and not counts.chat_known
        refusal = check(self._policy, counts, now, cold=cold)
        if refusal is not None:
            log.warning("session %s: send to %s refused: %s", self._session_id, chat_id, refusal.message)
            return refusal
        return Admitted(cold=cold)

    def simulate_typing(self, record: Mapping[str, Any]) -> None:
        """Show "typing…" in the chat for a while before a text goes out (best effort: a page that cannot
        show it does not hold the send back). Bulk messages are paced by their batch's delays instead."""
        content = record.get("content") or {}
        if content.get("kind") != "text" or record.get("batchId"):
            return
        duration = typing_ms(self._policy, str(content.get("text") or ""), self._rand())
        if duration <= 0:
            return
        typing = self._engine.capability(Capability.CHAT_TYPING, str(record["chatId"]), "typing")
        try:
            self._run(typing, TYPING_CALL_TIMEOUT)
        except (DomainError, EngineError) as exc:
            log.info("session %s: no typing indicator (%s)", self._session_id, exc)
            return
        self._sleep(duration / 1000)

    def sent(self, record: Mapping[str, Any], admitted: Admitted) -> None:
        if self._policy.enabled:
            day = utc_day(self._clock())
            self._state.record_sent(self._session_id, str(record["chatId"]), day=day, cold=admitted.cold)

    def failed(self) -> None:
        """A send WhatsApp (or the page) refused: one more in the run that trips the breaker."""
        if not self._policy.enabled:
            return
        policy, now_ms = self._policy, int(self._clock().timestamp() * 1000)
        threshold, cooldown = policy.breaker_threshold, policy.breaker_cooldown_ms
        if self._state.record_failure(
            self._session_id, threshold=threshold, cooldown_ms=cooldown, now_ms=now_ms
        ):
            log.warning(
                "session %s: %d consecutive send failures, sends paused for %d s",
                self._session_id,
                threshold,
                cooldown // 1000,
            )

    def _mark_seen(self, now: datetime) -> str | None:
        """The session's phone, its first-seen day recorded (once per process)."""
        if self._phone is None:
            self._phone = self._phone_source()
        if self._phone is not None and self._seen is None:
            self._seen = self._state.first_seen(self._phone, utc_day(now))
        return self._phone
