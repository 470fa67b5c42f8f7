"""What keeps deliveries from being lost when processes die, run by every `openwa worker`.

- `sweep_abandoned`: an attempt still marked in flight after its deadline (HTTP timeout + margins) lost
  its worker (SIGKILL, OOM, power): it is re-queued at once, as the same attempt, with a note in its log.
  RQ's own abandoned-job detection takes minutes (`reference/stack.md` §3); this takes seconds.
- `reconcile_pending` (in `dispatch`): events appended but never fanned out are fanned out.
- `wake_webhook_drain` (in `queueing`): ready deliveries whose waiting drain job was lost (its worker died
  between dequeuing and running it) get a new one once that job's wake flag has expired.

A `MaintenanceLoop` thread runs both every WEBHOOK_SWEEP_INTERVAL_SECONDS; a short Redis lock lets one
worker do it per interval, and every claim is atomic, so overlapping runs are harmless anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from redis import Redis

from functions.config import Settings
from functions.core.clock import iso, utcnow
from functions.log import get_logger
from functions.queueing import enqueue_webhook_delivery, wake_webhook_drain
from functions.state import metrics
from functions.state.deliveries import DeliveryRepository
from functions.state.keys import Keys
from functions.webhooks.dispatch import job_timeout, now_ms, reconcile_pending

log = get_logger(__name__)


def sweep_abandoned(conn: Redis, settings: Settings) -> int:
    """Re-queue attempts whose worker died mid-flight; returns how many were re-queued."""
    keys = Keys(settings.redis_prefix)
    deliveries = DeliveryRepository(conn, keys)
    requeued = 0
    for delivery_id, attempt in deliveries.overdue(now_ms()):
        if not deliveries.claim_inflight(delivery_id, attempt):
            continue  # the job finished, or another sweeper took it
        try:
            delivery = deliveries.get(delivery_id)
        except (ValueError, TypeError, KeyError) as exc:  # an unreadable record: skip it, sweep the rest
            log.warning("webhook_delivery_unreadable", delivery_id=delivery_id, error=type(exc).__name__)
            continue
        if delivery is None or delivery.state != "delivering" or delivery.attempt != attempt:
            continue
        note = {"attempt": attempt + 1, "at": iso(utcnow()), "statusCode": None, "latencyMs": None}
        note["error"] = "worker lost during the attempt; re-queued"
        with deliveries.pipeline() as pipe:
            deliveries.log_attempt(pipe, delivery_id, note)
            deliveries.log_webhook_attempt(pipe, delivery.webhook_id, delivery_id, delivery.event, note)
            deliveries.update(pipe, delivery_id, state="pending")
            enqueue_webhook_delivery(conn, delivery_id, attempt, timeout=job_timeout(settings), pipeline=pipe)
            metrics.incr_counter(pipe, keys, metrics.WEBHOOK_ATTEMPTS, {"outcome": "lost"})
            pipe.execute()
        log.warning("webhook_attempt_requeued", delivery_id=delivery_id, attempt=attempt)
        requeued += 1
    return requeued


def run_maintenance(conn: Redis, settings: Settings) -> bool:
    """One round (sweep, reconcile, wake) unless another worker holds this interval's lock. Each step runs
    whatever the previous one did: a failure is logged, never propagated."""
    lock_ms = max(100, int(settings.webhook_sweep_interval_seconds * 1000 * 0.8))
    if not conn.set(Keys(settings.redis_prefix).webhook_maintenance_lock, "1", nx=True, px=lock_ms):
        return False
    steps: list[tuple[str, Callable[[], object]]] = [
        ("sweep", lambda: sweep_abandoned(conn, settings)),
        ("reconcile", lambda: reconcile_pending(conn, settings)),
        ("wake", lambda: wake_webhook_drain(conn, timeout=job_timeout(settings))),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # one step failing must not starve the others
            log.warning("webhook_maintenance_step_failed", step=name, error=f"{type(exc).__name__}: {exc}")
    return True


class MaintenanceLoop(threading.Thread):
    """A daemon thread running `run_maintenance` every interval until `stop()`; errors are logged, never
    fatal (Redis being briefly down must not kill the worker)."""

    def __init__(self, conn: Redis, settings: Settings) -> None:
        super().__init__(name="webhook-maintenance", daemon=True)
        self._conn = conn
        self._settings = settings
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self._settings.webhook_sweep_interval_seconds):
            try:
                run_maintenance(self._conn, self._settings)
            except Exception as exc:  # keep sweeping after transient failures
                log.warning("webhook_maintenance_failed", error=f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self._stopped.set()
