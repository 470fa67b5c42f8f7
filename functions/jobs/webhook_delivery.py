"""The webhook delivery job (queue `webhooks`, path `functions.queueing.WEBHOOK_DELIVERY_JOB`)."""

from __future__ import annotations

from functions.webhooks.delivery import run_attempt, worker_context


def deliver(delivery_id: str, attempt: int) -> str:
    """Run attempt `attempt` (0-based) of delivery `delivery_id`. Idempotent: a duplicate or stale job is a
    no-op. Retries are not RQ's: a failed attempt schedules the next one itself (jitter, Retry-After, no
    retry on most 4xx), and the job's timeout is the HTTP timeout plus a margin."""
    return run_attempt(worker_context(), delivery_id, attempt)
