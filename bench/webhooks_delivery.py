"""Benchmark webhook delivery: deliveries/s with 2 `openwa worker` processes against a plain Python loop
POSTing the same bodies (2 processes, one keep-alive httpx client each), to the same local receiver, in
interleaved slices of the same run; then event -> first delivery latency p50/p99 under a steady load of half
the measured rate.

1. throughput: slices of N events, baseline and app alternating (A B B A ...) so both see the same machine;
   the workers and the baseline's processes are started (and warmed by one unmeasured slice each) before
   the first measured slice. Both sides use the same window: from the moment the slice starts (the baseline
   is handed its POSTs; the app's events are published, as the API publishes them) to the last arrival at
   the receiver. A slice counts only if every one of its N requests arrived exactly once.
2. latency: events published at a steady rate (50 % of the app's rate) for a few seconds while the workers
   run; latency = arrival at the receiver - publish time; every event must arrive exactly once.

Prints one JSON object. Exit status: 2 when the run is not a valid measurement (a lost or duplicated
delivery, a baseline process that failed), 1 with `--strict` when the target is missed (ratio >= 0.5), else
0. `--record` rewrites this benchmark's section of BENCHMARKS.md (valid runs only).

    .venv/bin/python -m bench.webhooks_delivery [--events 1500] [--rounds 3] [--record] [--strict]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from redis import Redis

from bench.harness import (
    BenchError,
    RedisServer,
    interleaved_order,
    machine_info,
    pair_ratios,
    percentile,
    record_section,
    scratch_dir,
    wait_for_port,
)
from functions.cli.redis_server import free_port
from functions.config import Settings, load_settings
from functions.core.clock import utcnow
from functions.core.models import Webhook
from functions.queueing import WEBHOOKS_READY_KEY, webhooks_queue
from functions.state.keys import Keys
from functions.state.webhooks import WebhookRepository
from functions.webhooks.dispatch import publish_event

ROOT = Path(__file__).resolve().parent.parent
RATIO_GTE = 0.5
TITLE = "Webhooks: delivery throughput and latency"
DATA = {"id": "true_1@c.us_3EB0BENCH", "from": "1@c.us", "to": "2@c.us", "body": "x" * 200, "type": "chat"}


def _post_worker(url: str, body: bytes, tasks: Any, done: Any) -> None:
    """A baseline process: one keep-alive client; for each `(slice, count)` task, POSTs `count` bodies keyed
    `<slice>-<pid>-<i>` (the slice id is `b-<n>`), then reports `(slice, ok)`. Stops at a None task."""
    with httpx.Client(timeout=10) as client:
        while (task := tasks.get()) is not None:
            slice_id, count = task
            try:
                for i in range(count):
                    key = f"{slice_id}-{os.getpid()}-{i}"
                    headers = {"Content-Type": "application/json", "X-OpenWA-Idempotency-Key": key}
                    client.post(url, content=body, headers=headers).raise_for_status()
                done.put((slice_id, True))
            except httpx.HTTPError:
                done.put((slice_id, False))


class Baseline:
    """Two started processes, each with its client: a slice hands each half of the POSTs."""

    def __init__(self, url: str, body: bytes) -> None:
        self.tasks: Any = multiprocessing.Queue()
        self.done: Any = multiprocessing.Queue()
        self.procs = [
            multiprocessing.Process(target=_post_worker, args=(url, body, self.tasks, self.done))
            for _ in range(2)
        ]
        for proc in self.procs:
            proc.start()

    def run_slice(self, slice_id: str, total: int) -> float:
        """Start the slice and wait for both processes; returns the slice's start (epoch s)."""
        started = time.time()
        for _ in self.procs:
            self.tasks.put((slice_id, total // 2))
        results = [self.done.get(timeout=120) for _ in self.procs]
        if not all(ok for _, ok in results):
            raise BenchError(f"a baseline process failed in slice {slice_id}")
        return started

    def close(self) -> None:
        for _ in self.procs:
            self.tasks.put(None)
        for proc in self.procs:
            proc.join(30)
            if proc.exitcode != 0:
                raise BenchError(f"a baseline process exited with {proc.exitcode}")


class Receiver:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.outfile = workdir / f"arrivals-{self.port}.txt"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.webhook_receiver", str(self.port), str(self.outfile)], cwd=ROOT
        )
        wait_for_port(self.port, 10, self.proc)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def arrivals(self) -> list[tuple[float, str]]:
        """Every request so far: (arrival epoch s, idempotency key)."""
        if not self.outfile.exists():
            return []
        rows = (line.split(" ", 1) for line in self.outfile.read_text().splitlines() if " " in line)
        return [(float(at), key.strip()) for at, key in rows]

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


def _settings(redis_url: str, workdir: Path) -> Settings:
    return load_settings(
        _env_file=None, redis_url=redis_url, data_dir=workdir / "data", ssrf_allowed_hosts=["127.0.0.1"]
    )


def _workers(settings: Settings, workdir: Path, count: int) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "DATA_DIR": str(settings.data_dir),
        "SSRF_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT),
    }
    argv = [sys.executable, "-c", "from functions.cli.main import cli; cli()", "worker"]
    return [
        subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]


def _hook(conn: Redis, settings: Settings, session_id: str, url: str) -> None:
    now = utcnow()
    WebhookRepository(conn, Keys(settings.redis_prefix)).save(
        Webhook(id=str(uuid.uuid4()), session_id=session_id, url=url, created_at=now, updated_at=now)
    )


def _backlog(conn: Redis, settings: Settings) -> int:
    """Deliveries not yet settled: drain jobs waiting on the RQ queue, entries on the ready list, and
    attempts in flight (the RQ queue alone empties long before its deliveries are done)."""
    inflight = Keys(settings.redis_prefix).deliveries_inflight
    return webhooks_queue(conn).count + int(conn.llen(WEBHOOKS_READY_KEY)) + int(conn.zcard(inflight))


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


_SLICE_OF_KEY = re.compile(r"(?:^|_)([ab]-\d+)-")


def slice_window(receiver: Receiver, slice_id: str, expected: int, started: float, timeout: float) -> float:
    """Wait until the slice's `expected` requests have all arrived; its window (s) from `started` to the
    last arrival. BenchError when one is lost (not there by `timeout`) or arrived twice."""
    deadline = time.monotonic() + timeout
    while True:
        mine = [(at, key) for at, key in receiver.arrivals() if _slice_of(key) == slice_id]
        keys = [key for _, key in mine]
        if len(set(keys)) != len(keys):
            raise BenchError(f"slice {slice_id}: {len(keys) - len(set(keys))} deliveries arrived twice")
        if len(keys) == expected:
            time.sleep(0.5)  # a late duplicate would show now
            again = [key for at, key in receiver.arrivals() if _slice_of(key) == slice_id]
            if len(again) != expected:
                raise BenchError(f"slice {slice_id}: {len(again)} arrivals for {expected} requests")
            return max(at for at, _ in mine) - started
        if time.monotonic() > deadline:
            raise BenchError(f"slice {slice_id}: {len(keys)} of {expected} arrived")
        time.sleep(0.05)


def _slice_of(key: str) -> str | None:
    found = _SLICE_OF_KEY.search(key)
    return found.group(1) if found else None


def throughput(redis_url: str, workdir: Path, receiver: Receiver, events: int, rounds: int) -> dict[str, Any]:
    """Interleaved slices (one unmeasured warm-up slice per side first): deliveries/s per slice."""
    settings = _settings(redis_url, workdir)
    conn = Redis.from_url(redis_url)
    _hook(conn, settings, "bench", receiver.url)
    body = json.dumps({"event": "message.received", "data": DATA, "idempotencyKey": "k" * 60}).encode()
    baseline = Baseline(receiver.url, body)
    workers = _workers(settings, workdir, 2)
    rates: dict[str, list[float]] = {"b": [], "a": []}
    try:
        for number, side in enumerate(["b", "a", *("ba"[i] for i in interleaved_order(2, rounds))]):
            slice_id = f"{side}-{number}"
            if side == "b":
                started = baseline.run_slice(slice_id, events)
            else:
                started = time.time()
                for index in range(events):
                    publish_event(
                        conn, settings, "bench", "message.received", {**DATA, "id": f"{slice_id}-{index}"}
                    )
            window = slice_window(receiver, slice_id, events, started, timeout=300)
            if number >= 2:  # the first two are warm-up
                rates[side].append(events / window)
    finally:
        _stop(workers)
        baseline.close()
    ratios = pair_ratios(rates["a"], rates["b"])
    return {
        "slices_per_side": rounds,
        "baseline_deliveries_per_s": round(statistics.median(rates["b"]), 1),
        "deliveries_per_s": round(statistics.median(rates["a"]), 1),
        "ratio": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
    }


def latency(redis_url: str, workdir: Path, rate: float, seconds: float) -> dict[str, Any]:
    """Events at a steady `rate`/2 per second with the workers running: publish -> arrival, ms."""
    settings = _settings(redis_url, workdir)
    conn = Redis.from_url(redis_url)
    receiver = Receiver(workdir)
    _hook(conn, settings, "latency", receiver.url)
    workers = _workers(settings, workdir, 2)
    try:
        time.sleep(3)  # the workers are up before the first event
        sent: dict[str, float] = {}
        interval = 1 / max(1.0, rate / 2)
        next_at = time.time()
        end = next_at + seconds
        index = 0
        while next_at < end:
            time.sleep(max(0.0, next_at - time.time()))
            sent[f"l-{index}"] = time.time()
            publish_event(conn, settings, "latency", "message.received", {**DATA, "id": f"l-{index}"})
            index += 1
            next_at += interval
        deadline = time.monotonic() + 60
        while len(receiver.arrivals()) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        arrivals = receiver.arrivals()
    finally:
        _stop(workers)
        receiver.close()
    by_event: dict[str, list[float]] = {}
    for at, key in arrivals:
        found = re.search(r"_(l-\d+)_", key)
        if found:
            by_event.setdefault(found.group(1), []).append(at)
    if set(by_event) != set(sent) or any(len(times) != 1 for times in by_event.values()):
        lost, twice = len(set(sent) - set(by_event)), sum(len(t) > 1 for t in by_event.values())
        raise BenchError(f"latency phase: {lost} events lost, {twice} delivered twice")
    latencies = sorted((times[0] - sent[event]) * 1000 for event, times in by_event.items())
    return {
        "latency_events": len(latencies),
        "latency_rate_per_s": round(1 / interval, 1),
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p99_ms": round(percentile(latencies, 99), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1500, help="requests per slice [1500]")
    parser.add_argument("--rounds", type=int, default=3, help="measured slices per side [3]")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument(
        "--record", action="store_true", help="rewrite this benchmark's BENCHMARKS.md section"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    try:
        with RedisServer() as redis, scratch_dir("bench-webhooks-") as workdir:
            receiver = Receiver(workdir)
            try:
                measured = throughput(redis.url, workdir, receiver, args.events, args.rounds)
            finally:
                receiver.close()
            timing = latency(redis.url, workdir, measured["deliveries_per_s"], args.latency_seconds)
    except BenchError as exc:
        print(f"bench.webhooks_delivery: not a valid measurement: {exc}", file=sys.stderr)
        return 2
    result = {"machine": machine_info(), "events_per_slice": args.events, **measured, **timing}
    result["target_ratio_gte"] = RATIO_GTE
    result["pass"] = result["ratio"] >= RATIO_GTE
    print(json.dumps(result, indent=2))
    if args.record:
        record_section("webhooks_delivery", TITLE, _markdown(result))
    return 1 if args.strict and not result["pass"] else 0


def _markdown(result: dict[str, Any]) -> str:
    machine = result["machine"]
    target = result["target_ratio_gte"]
    rows = [
        (
            "baseline: plain loop, 2 processes x 1 keep-alive httpx client (median slice)",
            f"{result['baseline_deliveries_per_s']}/s",
        ),
        (
            "app: 2 `openwa worker` processes (RQ SimpleWorker) (median slice)",
            f"{result['deliveries_per_s']}/s",
        ),
        (
            f"**ratio app / baseline**, median of {result['slices_per_side']} interleaved pairs "
            f"(target >= {target})",
            f"**{result['ratio']}** ({', '.join(str(r) for r in result['ratios'])})",
        ),
        (
            f"event -> first delivery p50 / p99 at {result['latency_rate_per_s']} events/s",
            f"{result['latency_p50_ms']} ms / {result['latency_p99_ms']} ms",
        ),
        ("every request and event delivered exactly once", f"yes ({result['events_per_slice']} per slice)"),
        ("target", "met" if result["pass"] else "**missed**"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    head = (
        "`.venv/bin/python -m bench.webhooks_delivery --record` — "
        f"{machine['date']}, {machine['cores']} cores, Python {machine['python']}, "
        f"load {machine['loadavg']}.\nSame local receiver (threaded `http.server`, keep-alive) for both "
        "sides; 2 processes each; slices interleaved (A B B A ...), each timed from its start to its last "
        "arrival.\n\n| measure | value |\n|---|---|\n"
    )
    return head + table + "\n"


if __name__ == "__main__":
    sys.exit(main())
