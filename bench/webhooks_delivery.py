"""Benchmark webhook delivery: deliveries/s with 2 `openwa worker` processes against a plain Python loop
POSTing the same bodies (2 processes, one keep-alive httpx client each), to the same local receiver, in the
same run; then event -> first delivery latency p50/p99 under a steady load of half the measured rate.

1. baseline: 2 processes x N/2 POSTs of a real delivery body; deliveries/s = N / wall time;
2. app: N events published (one webhook each) before 2 workers start; deliveries/s from the first to the
   last arrival at the receiver (worker start-up excluded);
3. latency: events published at a steady rate (50 % of the app's rate) for a few seconds while the workers
   run; latency = arrival at the receiver - publish time.

Prints one JSON object; `--record` rewrites this benchmark's section of BENCHMARKS.md (target: ratio >= 0.5).

    .venv/bin/python -m bench.webhooks_delivery [--events 3000] [--record]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
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

from bench.harness import RedisServer, machine_info, percentile, record_section, scratch_dir, wait_for_port
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


def _post_loop(url: str, body: bytes, count: int) -> None:
    with httpx.Client(timeout=10) as client:
        for _ in range(count):
            client.post(url, content=body, headers={"Content-Type": "application/json"}).raise_for_status()


def baseline(url: str, body: bytes, total: int) -> float:
    started = time.perf_counter()
    procs = [multiprocessing.Process(target=_post_loop, args=(url, body, total // 2)) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return (total // 2 * 2) / (time.perf_counter() - started)


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
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        rows = (line.split(" ", 1) for line in self.outfile.read_text().splitlines())
        return [(float(at), key.strip()) for at, key in rows]


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


def app_run(redis_url: str, workdir: Path, events: int, latency_seconds: float) -> dict[str, Any]:
    settings = _settings(redis_url, workdir)
    conn = Redis.from_url(redis_url)
    receiver = Receiver(workdir)
    _hook(conn, settings, "bench", receiver.url)
    for index in range(events):
        publish_event(conn, settings, "bench", "message.received", {**DATA, "id": f"t-{index}"})
    workers = _workers(settings, workdir, 2)
    try:
        deadline = time.monotonic() + 300
        while _backlog(conn, settings) > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        arrivals = receiver.arrivals()
        throughput_arrivals = sorted(at for at, key in arrivals)
        rate = (len(throughput_arrivals) - 1) / (throughput_arrivals[-1] - throughput_arrivals[0])
        latency_receiver = Receiver(workdir)
        _hook(conn, settings, "latency", latency_receiver.url)
        sent: dict[str, float] = {}
        interval = 1 / max(1.0, rate / 2)
        next_at = time.time()
        end = next_at + latency_seconds
        index = 0
        while next_at < end:
            time.sleep(max(0.0, next_at - time.time()))
            sent[f"msg_latency_l-{index}_"] = time.time()
            publish_event(conn, settings, "latency", "message.received", {**DATA, "id": f"l-{index}"})
            index += 1
            next_at += interval
        time.sleep(3)
        latencies = []
        for at, key in latency_receiver.arrivals():
            prefix = key.rsplit("_", 1)[0] + "_"
            if prefix in sent:
                latencies.append((at - sent[prefix]) * 1000)
        latencies.sort()
    finally:
        _stop(workers)
    return {
        "deliveries": len(throughput_arrivals),
        "deliveries_per_s": round(rate, 1),
        "latency_events": len(latencies),
        "latency_sent": len(sent),
        "latency_rate_per_s": round(1 / interval, 1),
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p99_ms": round(percentile(latencies, 99), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    with RedisServer() as redis, scratch_dir("bench-webhooks-") as workdir:
        receiver = Receiver(workdir)
        body = json.dumps({"event": "message.received", "data": DATA, "idempotencyKey": "k" * 60}).encode()
        base_rate = baseline(receiver.url, body, args.events)
        receiver.arrivals()
        app = app_run(redis.url, workdir, args.events, args.latency_seconds)
    result = {
        "machine": machine_info(),
        "baseline_deliveries_per_s": round(base_rate, 1),
        "events": args.events,
        **app,
        "ratio": round(app["deliveries_per_s"] / base_rate, 3),
        "target_ratio_gte": RATIO_GTE,
    }
    print(json.dumps(result, indent=2))
    if args.record:
        record_section("webhooks_delivery", TITLE, _markdown(result))
    return 0


def _markdown(result: dict[str, Any]) -> str:
    machine = result["machine"]
    target = result["target_ratio_gte"]
    rows = [
        (
            "baseline: plain loop, 2 processes x 1 keep-alive httpx client",
            f"{result['baseline_deliveries_per_s']}/s",
        ),
        ("app: 2 `openwa worker` processes (RQ SimpleWorker)", f"{result['deliveries_per_s']}/s"),
        ("events delivered in the throughput phase", f"{result['deliveries']} of {result['events']}"),
        (f"**ratio app / baseline** (target >= {target})", f"**{result['ratio']}**"),
        (
            f"event -> first delivery p50 / p99 at {result['latency_rate_per_s']} events/s",
            f"{result['latency_p50_ms']} ms / {result['latency_p99_ms']} ms",
        ),
        ("events delivered in the latency phase", f"{result['latency_events']} of {result['latency_sent']}"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    head = (
        "`.venv/bin/python -m bench.webhooks_delivery --record` — "
        f"{machine['date']}, {machine['cores']} cores, Python {machine['python']}, "
        f"load {machine['loadavg']}.\nSame local receiver (threaded `http.server`, keep-alive) for both "
        "sides; 2 processes each.\n\n| measure | value |\n|---|---|\n"
    )
    return head + table + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
