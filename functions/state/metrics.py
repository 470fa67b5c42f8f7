"""Shared counters and histograms in Redis, for `GET /api/metrics`.

The API runs as many stateless processes (gunicorn workers, Lambda) and the work it counts happens in
other processes still (webhook workers, session processes), so nothing is counted in process memory:
every increment goes to Redis here, and the scrape (`functions.services.metrics`) reads the totals.

Every metric is declared once in `METRICS` (name, type, help, label names, histogram buckets); writing an
undeclared name, or a label set other than the declared one, raises ValueError, so a typo fails the
first test that reaches it instead of creating a series nobody scrapes. Declared metrics are exposed
even before anything was counted: an unlabelled one as 0, a labelled one with a zero series for each
of its `zero_series`.

Usage (from any process with a Redis connection and the `Keys` of the deployment)::

    from functions.state import metrics

    with conn.pipeline(transaction=False) as pipe:
        ...                                                        # your own writes, same round trip
        metrics.incr_counter(pipe, keys, metrics.MESSAGES_SENT)
        metrics.observe(pipe, keys, metrics.MESSAGE_SEND_LATENCY, seconds)
        pipe.execute()

    metrics.incr_counter(conn, keys, metrics.MESSAGES_RECEIVED)    # alone: one round trip

- `incr_counter(conn_or_pipeline, keys, name, labels=None, amount=1)`: one HINCRBY.
- `observe(conn_or_pipeline, keys, name, value_seconds, labels=None)`: two hash increments (its bucket
  and the sum); negative values count as 0 (clock skew), NaN/inf raise ValueError.
- Given a pipeline, nothing is sent until the caller executes it; given a plain client, each call is one
  round trip of its own.
- Label values must come from a small fixed set (an outcome, a status class), never ids or free text:
  each distinct value is a series kept forever.
- With a plain client, Redis being down raises StateUnavailable; with a pipeline, the caller's `execute()`
  raises. Counting is never worth failing the work it counts: callers outside a pipeline may catch it.

Who records what:
- messaging: `MESSAGES_SENT` when a send's status becomes `sent`, `MESSAGES_FAILED` when it becomes
  `failed`, `MESSAGES_RECEIVED` per inbound message (after dedup), and `MESSAGE_SEND_LATENCY`, the seconds
  from the API accepting the send (its 201) to `sent`; all unlabelled;
- webhook delivery (`functions.webhooks.delivery.settle`, the sweeper): `WEBHOOK_ATTEMPTS{outcome}`,
  `WEBHOOK_DELIVERY_FAILURES`, `WEBHOOK_ATTEMPT_DURATION`;
- authentication (`functions.api.audit.audit_auth_failure`): `AUTH_FAILURES{status}`.

Layout: one hash per metric, `<p>:metrics:<name>`. A counter's field is its label values (a JSON array, in
the declared order; `[]` when unlabelled) and its value the count. A histogram's fields are
`<labels>|<i>` (observations in bucket i, not cumulative; i = len(buckets) is +Inf; the count is their
total) and `<labels>|sum` (seconds, HINCRBYFLOAT).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Literal

import orjson
from redis import Redis
from redis.client import Pipeline

from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

# Metric names other code writes; import these rather than spelling the strings.
MESSAGES_SENT = "openwa_messages_sent_total"
MESSAGES_RECEIVED = "openwa_messages_received_total"
MESSAGES_FAILED = "openwa_messages_failed_total"
MESSAGE_SEND_LATENCY = "openwa_message_send_latency_seconds"
WEBHOOK_ATTEMPTS = "openwa_webhook_attempts_total"
WEBHOOK_DELIVERY_FAILURES = "openwa_webhook_delivery_failures_total"
WEBHOOK_ATTEMPT_DURATION = "openwa_webhook_attempt_duration_seconds"
AUTH_FAILURES = "openwa_auth_failures_total"

# Bucket upper bounds (seconds), one table per kind of latency.
SEND_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
HTTP_ATTEMPT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# What `functions.webhooks.delivery.settle` (and the sweeper) record as a webhook attempt's outcome.
WEBHOOK_OUTCOMES = ("delivered", "retrying", "dead_lettered", "gone", "lost")


@dataclass(frozen=True)
class MetricSpec:
    """One declared metric. `name` is the exposed name (counters end in `_total`)."""

    name: str
    kind: Literal["counter", "histogram"]
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    zero_series: tuple[tuple[str, ...], ...] = ()


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            MESSAGES_SENT, "counter", "Messages WhatsApp accepted from a session (status moved to sent)."
        ),
        MetricSpec(MESSAGES_RECEIVED, "counter", "Inbound messages the sessions received."),
        MetricSpec(MESSAGES_FAILED, "counter", "Outgoing messages that ended in status failed."),
        MetricSpec(
            MESSAGE_SEND_LATENCY,
            "histogram",
            "Seconds from the API accepting a send (201) to WhatsApp accepting the message (sent).",
            buckets=SEND_LATENCY_BUCKETS,
        ),
        MetricSpec(
            WEBHOOK_ATTEMPTS,
            "counter",
            "Webhook delivery attempts by outcome: delivered, retrying (failed, another attempt queued), "
            "dead_lettered, gone (410: webhook disabled), lost (worker died mid-attempt; re-queued).",
            labels=("outcome",),
            zero_series=tuple((outcome,) for outcome in WEBHOOK_OUTCOMES),
        ),
        MetricSpec(
            WEBHOOK_DELIVERY_FAILURES,
            "counter",
            "Webhook deliveries that were dead-lettered (attempts exhausted, rejected, or 410).",
        ),
        MetricSpec(
            WEBHOOK_ATTEMPT_DURATION,
            "histogram",
            "Seconds each webhook attempt's HTTP request took (attempts that got no answer included).",
            buckets=HTTP_ATTEMPT_BUCKETS,
        ),
        MetricSpec(
            AUTH_FAILURES,
            "counter",
            "API requests refused for their credentials: 401 (missing, unknown, revoked, expired key, or "
            "IP not allowed) and 403 (role or scope).",
            labels=("status",),
            zero_series=(("401",), ("403",)),
        ),
    )
}


@dataclass
class HistogramValue:
    """One histogram series: per-bucket counts (not cumulative; the last is +Inf) and their sum."""

    buckets: list[int]
    sum: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.buckets)


@dataclass
class MetricValues:
    """What Redis holds for one declared metric, keyed by label values (in the declared order)."""

    spec: MetricSpec
    counters: dict[tuple[str, ...], float] = field(default_factory=dict)
    histograms: dict[tuple[str, ...], HistogramValue] = field(default_factory=dict)


def _spec(name: str, kind: str, labels: dict[str, str] | None) -> tuple[MetricSpec, str]:
    """The declared spec and the hash field for these labels; ValueError for anything undeclared."""
    spec = METRICS.get(name)
    if spec is None or spec.kind != kind:
        raise ValueError(f"{name!r} is not a declared {kind} (functions.state.metrics.METRICS)")
    given = labels or {}
    if set(given) != set(spec.labels):
        raise ValueError(f"{name} takes labels {list(spec.labels)}, got {sorted(given)}")
    return spec, orjson.dumps([str(given[label]) for label in spec.labels]).decode()


def _send(conn: Redis | Pipeline, commands: list[tuple[str, str, float]], key: str) -> None:
    """Queue the increments on a pipeline, or send them together on a plain client."""
    if isinstance(conn, Pipeline):
        _queue(conn, key, commands)
        return
    with translate_redis_errors(), conn.pipeline(transaction=False) as pipe:
        _queue(pipe, key, commands)
        pipe.execute()


def _queue(pipe: Pipeline, key: str, commands: list[tuple[str, str, float]]) -> None:
    for kind, name, amount in commands:
        if kind == "int":
            pipe.hincrby(key, name, int(amount))
        else:
            pipe.hincrbyfloat(key, name, amount)


def incr_counter(
    conn: Redis | Pipeline, keys: Keys, name: str, labels: dict[str, str] | None = None, amount: int = 1
) -> None:
    """Add `amount` (default 1) to counter `name` for `labels` (exactly its declared label names)."""
    if amount < 0:
        raise ValueError("a counter only goes up")
    _, label_field = _spec(name, "counter", labels)
    _send(conn, [("int", label_field, amount)], keys.metric(name))


def observe(
    conn: Redis | Pipeline, keys: Keys, name: str, value_seconds: float, labels: dict[str, str] | None = None
) -> None:
    """Record one observation of histogram `name` (seconds): its bucket and the sum."""
    if not math.isfinite(value_seconds):
        raise ValueError(f"cannot observe {value_seconds!r}")
    spec, label_field = _spec(name, "histogram", labels)
    value = max(0.0, float(value_seconds))
    bucket = bisect_left(spec.buckets, value)  # first bound >= value: Prometheus' `le`
    commands = [
        ("int", f"{label_field}|{bucket}", 1),
        ("float", f"{label_field}|sum", value),
    ]
    _send(conn, commands, keys.metric(name))


def read_metrics(conn: Redis, keys: Keys) -> list[MetricValues]:
    """Every declared metric with what has been counted so far (one round trip). Read in one MULTI, so
    figures written together (an attempt's outcome, its duration, its failure) are seen together."""
    with translate_redis_errors(), conn.pipeline(transaction=True) as pipe:
        for name in METRICS:
            pipe.hgetall(keys.metric(name))
        rows = pipe.execute()
    return [_decode(spec, raw) for spec, raw in zip(METRICS.values(), rows, strict=True)]


def _labels(raw: str) -> tuple[str, ...]:
    return tuple(str(value) for value in orjson.loads(raw))


def _decode(spec: MetricSpec, raw: dict[bytes, bytes]) -> MetricValues:
    values = MetricValues(spec)
    if spec.kind == "counter":
        values.counters = {_labels(text(name)): float(count) for name, count in raw.items()}
        return values
    for name, amount in raw.items():
        label_field, _, part = text(name).rpartition("|")
        series = values.histograms.setdefault(
            _labels(label_field), HistogramValue([0] * (len(spec.buckets) + 1))
        )
        if part == "sum":
            series.sum = float(amount)
        elif part.isdigit() and int(part) < len(series.buckets):
            series.buckets[int(part)] = int(amount)
    return values
