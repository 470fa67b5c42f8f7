"""The Prometheus view of the deployment, built from shared state at scrape time.

Every API process (gunicorn worker, Lambda) answers a scrape with the same numbers, because nothing here
is kept in process memory: sessions, runners, queues and webhook backlog are read from Redis, and the
counters and histograms other processes record go through `functions.state.metrics`. Only `openwa_up`,
`openwa_process_*` and `process_*` describe the process that answered.

Families (OpenWA's names first, `reference/openwa.md` §7):
- `openwa_up`, `openwa_process_uptime_seconds`, `openwa_process_resident_memory_bytes`, `process_*`;
- `openwa_stats_available` (0 when Redis could not be read; every Redis-derived family is then omitted,
  as upstream omits its database-derived ones);
- `openwa_sessions_total`, `openwa_sessions_active`, `openwa_sessions{status}`, `openwa_sessions_restricted`;
- `openwa_messages_total{direction}` (from the sent/received counters) and every metric declared in
  `functions.state.metrics.METRICS` (messages, send latency, webhook attempts and failures, auth failures);
- `openwa_queue_jobs{queue,state}` for `webhooks`, `default` and each `session:<id>` queue, state being
  queued, started, failed, scheduled or deferred;
- `openwa_runners_live`, `openwa_runner_sessions_held{runner}`, `openwa_runner_sessions_max{runner}`,
  `openwa_runners_free_capacity` (the sum over live runners of MAX_SESSIONS minus sessions held);
- `openwa_webhook_dead_letters`, `openwa_webhook_deliveries_inflight`, `openwa_webhook_deliveries_ready`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError

from functions.core.enums import SessionStatus
from functions.core.errors import DomainError
from functions.log import get_logger
from functions.queueing import QueueStats, queue_stats
from functions.state.fleet import FleetSnapshot, read_fleet
from functions.state.keys import Keys
from functions.state.metrics import (
    MESSAGES_RECEIVED,
    MESSAGES_SENT,
    HistogramValue,
    MetricValues,
    read_metrics,
)

log = get_logger(__name__)

# Statuses in which a session has (or is getting) a live engine: OpenWA's "active".
ACTIVE_STATUSES = (
    SessionStatus.INITIALIZING,
    SessionStatus.QR_READY,
    SessionStatus.AUTHENTICATING,
    SessionStatus.READY,
    SessionStatus.ACTION_REQUIRED,
)
QUEUE_STATES = ("queued", "started", "failed", "scheduled", "deferred")


@dataclass
class _Shared:
    """Everything read from Redis for one scrape; read whole before anything is exposed."""

    fleet: FleetSnapshot
    queues: list[QueueStats]
    metrics: list[MetricValues]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class GatewayCollector(Collector):
    """A prometheus-client collector (`collect()`), for `generate_latest(collector)`."""

    def __init__(self, conn: Redis, keys: Keys, *, default_max_sessions: int) -> None:
        self._conn = conn
        self._keys = keys
        self._default_max_sessions = default_max_sessions

    def describe(self) -> list[Metric]:
        """Nothing up front: registering this collector must not read Redis."""
        return []

    def collect(self) -> Iterator[Metric]:
        yield _gauge("openwa_up", "1 while the gateway answers.", 1)
        yield from _process_families()
        try:
            shared = _Shared(
                read_fleet(self._conn, self._keys, default_max_sessions=self._default_max_sessions),
                queue_stats(self._conn),
                read_metrics(self._conn, self._keys),
            )
        except (DomainError, RedisError) as exc:
            log.warning("metrics_state_unreadable", error=type(exc).__name__)
            yield _gauge("openwa_stats_available", "1 when shared state (Redis) could be read.", 0)
            return
        yield _gauge("openwa_stats_available", "1 when shared state (Redis) could be read.", 1)
        yield from _session_families(shared.fleet)
        yield from _declared_families(shared.metrics)
        yield from _queue_families(shared.queues)
        yield from _runner_families(shared.fleet)
        yield from _webhook_families(shared.fleet)


def _process_families() -> Iterator[Metric]:
    """This process's figures: prometheus-client's standard `process_*` and OpenWA's names for two."""
    families = list(ProcessCollector(registry=None).collect())
    yield from families
    values = {family.name: family.samples[0].value for family in families if family.samples}
    if "process_start_time_seconds" in values:
        uptime = max(0.0, time.time() - values["process_start_time_seconds"])
        yield _gauge("openwa_process_uptime_seconds", "Seconds since this API process started.", uptime)
    if "process_resident_memory_bytes" in values:
        rss = values["process_resident_memory_bytes"]
        yield _gauge("openwa_process_resident_memory_bytes", "Resident memory of this API process.", rss)


def _session_families(fleet: FleetSnapshot) -> Iterator[Metric]:
    by_status = fleet.sessions_by_status
    yield _gauge("openwa_sessions_total", "Sessions that exist.", fleet.sessions_total)
    active = sum(by_status.get(status, 0) for status in ACTIVE_STATUSES)
    yield _gauge("openwa_sessions_active", "Sessions with a live or starting engine.", active)
    family = GaugeMetricFamily("openwa_sessions", "Sessions by status.", labels=["status"])
    for status in SessionStatus:
        family.add_metric([status.value], by_status.get(status, 0))
    yield family
    yield _gauge(
        "openwa_sessions_restricted", "Sessions WhatsApp currently restricts.", fleet.sessions_restricted
    )


def _declared_families(metrics: list[MetricValues]) -> Iterator[Metric]:
    """`openwa_messages_total{direction}` and every declared counter and histogram, zeros included."""
    totals = {values.spec.name: sum(values.counters.values()) for values in metrics}
    messages = GaugeMetricFamily("openwa_messages_total", "Messages by direction.", labels=["direction"])
    messages.add_metric(["incoming"], totals.get(MESSAGES_RECEIVED, 0))
    messages.add_metric(["outgoing"], totals.get(MESSAGES_SENT, 0))
    yield messages
    for values in metrics:
        yield _counter(values) if values.spec.kind == "counter" else _histogram(values)


def _counter(values: MetricValues) -> Metric:
    spec = values.spec
    family = CounterMetricFamily(spec.name, spec.help, labels=list(spec.labels))
    series = {label_values: 0.0 for label_values in spec.zero_series}
    if not spec.labels:
        series[()] = 0.0
    series.update(values.counters)
    for label_values, count in sorted(series.items()):
        family.add_metric(list(label_values), count)
    return family


def _histogram(values: MetricValues) -> Metric:
    spec = values.spec
    family = HistogramMetricFamily(spec.name, spec.help, labels=list(spec.labels))
    series = dict(values.histograms)
    if not spec.labels:
        series.setdefault((), HistogramValue([0] * (len(spec.buckets) + 1)))
    bounds = [repr(float(bound)) for bound in spec.buckets] + ["+Inf"]  # `le` as Prometheus writes it
    for label_values, value in sorted(series.items()):
        cumulative = list(accumulate(float(count) for count in value.buckets))
        family.add_metric(list(label_values), list(zip(bounds, cumulative, strict=True)), value.sum)
    return family


def _queue_families(queues: Iterable[QueueStats]) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "openwa_queue_jobs",
        "RQ jobs per queue: waiting (queued), running (started), and in the failed, scheduled and "
        "deferred registries.",
        labels=["queue", "state"],
    )
    for queue in queues:
        for state in QUEUE_STATES:
            family.add_metric([queue.name, state], getattr(queue, state))
    yield family


def _runner_families(fleet: FleetSnapshot) -> Iterator[Metric]:
    yield _gauge("openwa_runners_live", "Runners whose heartbeat is current.", len(fleet.runners))
    held = GaugeMetricFamily("openwa_runner_sessions_held", "Sessions each runner holds.", labels=["runner"])
    most = GaugeMetricFamily(
        "openwa_runner_sessions_max", "Sessions each runner may hold (MAX_SESSIONS).", labels=["runner"]
    )
    for runner in fleet.runners:
        held.add_metric([runner.id], runner.held)
        most.add_metric([runner.id], runner.max_sessions)
    yield held
    yield most
    yield _gauge(
        "openwa_runners_free_capacity",
        "Sessions the live runners could still claim: the sum of MAX_SESSIONS minus sessions held.",
        sum(runner.free for runner in fleet.runners),
    )


def _webhook_families(fleet: FleetSnapshot) -> Iterator[Metric]:
    dead, inflight = fleet.webhook_dead_letters, fleet.webhook_inflight
    yield _gauge("openwa_webhook_dead_letters", "Dead-lettered webhook deliveries kept.", dead)
    yield _gauge("openwa_webhook_deliveries_inflight", "Webhook attempts running now.", inflight)
    yield _gauge(
        "openwa_webhook_deliveries_ready",
        "Webhook attempts due now and waiting for a drain job (the backlog).",
        fleet.webhook_ready,
    )
