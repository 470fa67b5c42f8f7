"""Benchmark: the API keeps answering while 500 event streams are open and 50 media downloads trickle in.

Issue 22's requirement: no client and no remote peer can hold the request capacity that health checks, auth
and sends need. The whole gateway runs here (`bench.live_stack`: private redis-server, sandbox, the API on the
harness's gunicorn settings, one runner; pacing off, rate limiting off) and a session is linked to a sandbox
phone. Phases alternate, quiet then under pressure, mirrored every other run (Q P P Q ...):

* quiet: nothing else open;
* pressure: 500 open `GET /api/events` streams (25 viewer keys x 20, the default per-key cap; the clients
  never read), and 50 `send-image` requests in flight at all times whose `url` serves one byte every 0.2 s
  (each ends at the media download deadline, `MEDIA_DOWNLOAD_TIMEOUT_MS`, and is sent again).

In each phase an open loop of 200 req/s alternates `GET /api/health/live` and `POST .../send-text` in 1 s
blocks (latency from the intended send time). Targets: under pressure, health-live p99 < 50 ms and send-text
p99 at most 2x its quiet figure (medians over the runs). Prints one JSON object; `--record` rewrites this
benchmark's section of BENCHMARKS.md. Exit status: 0 for a valid run, 2 when a measured request failed or the
pressure could not be held (a stream refused, fewer slow downloads in flight than asked), 1 with `--strict`
when a target is missed.

    .venv/bin/python -m bench.request_capacity [--record] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bench.harness import (
    BenchError,
    GunicornSettings,
    Target,
    build_request,
    conclude,
    machine_info,
    open_loop,
    record_section,
    scratch_dir,
)
from bench.live_stack import LiveStack
from bench.messages_send import build_post

KEY = "request_capacity"
TITLE = "Request capacity: health and sends with 500 open event streams and 50 slow media downloads"
HEALTH_P99_MS_LT = 50.0
SEND_P99_RATIO_LTE = 2.0
ALICE, BOB = "15550001111", "15550002222"
STREAMS_PER_KEY = 20
_HEAD_END = b"\r\n\r\n"  # the default SSE_MAX_STREAMS_PER_KEY


class Trickle:
    """A loopback server sending a 10,000-byte image one byte every 0.2 s, while `flowing` is set."""

    def __init__(self) -> None:
        self.flowing = threading.Event()
        flowing = self.flowing

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "10000")
                self.end_headers()
                for _ in range(10_000):
                    time.sleep(0.2)
                    if not flowing.is_set():
                        return  # the download ends short: the API fails it at once
                    try:
                        self.wfile.write(b"\x89")
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/photo.png"

    def close(self) -> None:
        self.flowing.clear()
        self.server.shutdown()
        self.server.server_close()


def open_stream(port: int, api_key: str) -> socket.socket:
    """An event stream that is never read after its head; BenchError unless it is a 200."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    request = f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {api_key}\r\n\r\n"
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head and (chunk := sock.recv(4096)):
        head += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        sock.settimeout(2)
        with contextlib.suppress(OSError):
            head += sock.recv(4096)
        sock.close()
        body = head.split(_HEAD_END, 1)[-1]
        raise BenchError(f"an event stream was refused: {body[:400]!r}")
    return sock


class SlowSends:
    """`count` threads each sending send-image with the trickling URL, again as soon as one ends."""

    def __init__(self, stack: LiveStack, session_id: str, url: str, count: int) -> None:
        self._stop = threading.Event()
        self.in_flight = 0
        self.finished: dict[int, int] = {}
        self._lock = threading.Lock()
        self._body = {"chatId": BOB, "url": url}
        self._path = f"{stack.api_url}/api/sessions/{session_id}/messages/send-image"
        self._headers = {"X-API-Key": stack.master_key}
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(count)]

    def _loop(self) -> None:
        with httpx.Client(timeout=120) as http:
            while not self._stop.is_set():
                with self._lock:
                    self.in_flight += 1
                try:
                    status = http.post(self._path, json=self._body, headers=self._headers).status_code
                except httpx.HTTPError:
                    status = 0
                with self._lock:
                    self.in_flight -= 1
                    self.finished[status] = self.finished.get(status, 0) + 1

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=60)


@contextmanager
def pressure(
    stack: LiveStack, session_id: str, keys: list[str], trickle: Trickle, args: argparse.Namespace
) -> Iterator[dict[str, Any]]:
    """Streams and slow downloads held open for the body of the `with`; yields what was held."""
    assert stack.api is not None
    held: dict[str, Any] = {}
    streams: list[socket.socket] = []
    trickle.flowing.set()
    sends = SlowSends(stack, session_id, trickle.url, args.slow)
    try:
        for index in range(args.streams):
            streams.append(open_stream(stack.api.port, keys[index // STREAMS_PER_KEY]))
        sends.start()
        deadline = time.monotonic() + 10
        while sends.in_flight < args.slow and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the downloads are past their headers, trickling
        held["slow_in_flight_at_start"] = sends.in_flight
        yield held
        held["slow_in_flight_at_end"] = sends.in_flight
    finally:
        trickle.flowing.clear()
        sends.stop()
        for sock in streams:
            sock.close()
        held["streams"] = len(streams)
        held["slow_sends_finished"] = dict(sends.finished)


def _viewer_keys(stack: LiveStack, count: int) -> list[str]:
    body = {"name": "stream watcher", "role": "viewer"}
    return [str(stack.call("POST", "/api/auth/api-keys", body)["apiKey"]) for _ in range(count)]


def _phase(targets: list[Target], args: argparse.Namespace) -> dict[str, Any]:
    send, health = open_loop(targets, rate=args.rate, block=1.0, rounds=args.rounds, warmup=1.0)
    return {
        "send_p50_ms": send["p50_ms"],
        "send_p99_ms": send["p99_ms"],
        "health_p50_ms": health["p50_ms"],
        "health_p99_ms": health["p99_ms"],
        "errors": send["errors"] + health["errors"],
        "error_kinds": {**send["error_kinds"], **health["error_kinds"]},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = GunicornSettings(workers=args.workers, threads=args.threads, worker_class=args.worker_class)
    trickle = Trickle()
    try:
        with (
            scratch_dir("bench-request-capacity-") as workdir,
            LiveStack(workdir, settings, SSRF_ALLOWED_HOSTS="127.0.0.1") as stack,
        ):
            session_id = stack.link_session("alice", ALICE)
            stack.add_phone(BOB, "bob")
            assert stack.api is not None
            port, pids = stack.api.port, stack.api.worker_pids()
            headers = {"X-API-Key": stack.master_key}
            send = build_post(
                f"/api/sessions/{session_id}/messages/send-text", port, headers, {"chatId": BOB, "text": "hi"}
            )
            live = build_request("GET", "/api/health/live", port)
            targets = [Target("send-text", port, send, pids), Target("health-live", port, live, pids)]
            runs = []
            for index in range(args.runs):
                order = ["quiet", "pressure"] if index % 2 == 0 else ["pressure", "quiet"]
                phases: dict[str, Any] = {}
                for name in order:
                    if name == "quiet":
                        phases[name] = _phase(targets, args)
                    else:
                        # Fresh keys: the last phase's closed streams keep their slots until the server
                        # next writes to them and notices.
                        keys = _viewer_keys(stack, math.ceil(args.streams / STREAMS_PER_KEY))
                        with pressure(stack, session_id, keys, trickle, args) as held:
                            phases[name] = _phase(targets, args)
                        phases[name]["held"] = held
                runs.append(phases)
    finally:
        trickle.close()
    return summarise(runs, settings, args)


def _median(runs: list[dict[str, Any]], phase: str, name: str) -> float:
    return round(float(statistics.median(r[phase][name] for r in runs)), 3)


def summarise(
    runs: list[dict[str, Any]], settings: GunicornSettings, args: argparse.Namespace
) -> dict[str, Any]:
    health_p99 = _median(runs, "pressure", "health_p99_ms")
    send_ratio = round(_median(runs, "pressure", "send_p99_ms") / _median(runs, "quiet", "send_p99_ms"), 3)
    held_fully = all(
        r["pressure"]["held"]["streams"] == args.streams
        and min(
            r["pressure"]["held"]["slow_in_flight_at_start"], r["pressure"]["held"]["slow_in_flight_at_end"]
        )
        >= args.slow
        for r in runs
    )
    errors = sum(r[phase]["errors"] for r in runs for phase in ("quiet", "pressure"))
    return {
        "benchmark": KEY,
        "median": {
            "quiet_send_p99_ms": _median(runs, "quiet", "send_p99_ms"),
            "pressure_send_p99_ms": _median(runs, "pressure", "send_p99_ms"),
            "send_p99_ratio": send_ratio,
            "quiet_health_p99_ms": _median(runs, "quiet", "health_p99_ms"),
            "pressure_health_p99_ms": health_p99,
        },
        "runs": runs,
        "targets": {"health_p99_ms_lt": HEALTH_P99_MS_LT, "send_p99_ratio_lte": SEND_P99_RATIO_LTE},
        "pass": {
            "health_p99": health_p99 < HEALTH_P99_MS_LT,
            "send_p99_ratio": send_ratio <= SEND_P99_RATIO_LTE,
            "valid": not errors and held_fully,
        },
        "settings": {
            "gunicorn": " ".join(settings.args()),
            "rate": args.rate,
            "rounds": args.rounds,
            "streams": args.streams,
            "slow": args.slow,
            "runs": args.runs,
        },
        "machine": machine_info(),
    }


def markdown(result: dict[str, Any]) -> str:
    runs, med, ok, s, m = (
        result["runs"],
        result["median"],
        result["pass"],
        result["settings"],
        result["machine"],
    )
    verdict = {True: "pass", False: "**FAIL**"}
    rows: list[tuple[str, Any]] = [
        (
            "quiet: send-text p50 / p99 (ms)",
            lambda r: f"{r['quiet']['send_p50_ms']:g} / {r['quiet']['send_p99_ms']:g}",
        ),
        (
            "pressure: send-text p50 / p99 (ms)",
            lambda r: f"{r['pressure']['send_p50_ms']:g} / {r['pressure']['send_p99_ms']:g}",
        ),
        (
            "quiet: health-live p50 / p99 (ms)",
            lambda r: f"{r['quiet']['health_p50_ms']:g} / {r['quiet']['health_p99_ms']:g}",
        ),
        (
            "pressure: health-live p50 / p99 (ms)",
            lambda r: f"{r['pressure']['health_p50_ms']:g} / {r['pressure']['health_p99_ms']:g}",
        ),
        ("streams held open", lambda r: r["pressure"]["held"]["streams"]),
        (
            "slow downloads in flight (start / end)",
            lambda r: (
                f"{r['pressure']['held']['slow_in_flight_at_start']} / "
                f"{r['pressure']['held']['slow_in_flight_at_end']}"
            ),
        ),
    ]
    header = " | ".join(f"run {index + 1}" for index in range(len(runs)))
    lines = [
        f"Latest run: {m['date']}, {m['cores']} cores (load average {m['loadavg']}), Python {m['python']}.",
        f"`gunicorn {s['gunicorn']}`; a session linked to a sandbox phone, its runner sending what is queued "
        f"(pacing off, rate limiting off). Pressure: {s['streams']} open `GET /api/events` streams "
        f"({STREAMS_PER_KEY} per viewer key, never read) and {s['slow']} `send-image` requests in flight "
        f"whose URL sends one byte every 0.2 s. Each phase: {s['rate']:g} req/s open loop, send-text and "
        f"health-live in {s['rounds']} x 1 s interleaved blocks each, latency from the intended send time. "
        f"{s['runs']} runs, quiet and pressure phases mirrored, medians below.",
        "",
        f"- health-live p99 under pressure: **{med['pressure_health_p99_ms']:g} ms** (target < "
        f"{HEALTH_P99_MS_LT:g} ms): {verdict[ok['health_p99']]}",
        f"- send-text p99 under pressure / quiet: **{med['send_p99_ratio']:g}** "
        f"({med['pressure_send_p99_ms']:g} / {med['quiet_send_p99_ms']:g} ms; "
        f"target ≤ {SEND_P99_RATIO_LTE:g}): {verdict[ok['send_p99_ratio']]}",
        "",
        f"| metric | {header} |",
        "| --- |" + " ---: |" * len(runs),
        *(f"| {name} | " + " | ".join(str(get(r)) for r in runs) + " |" for name, get in rows),
        "",
        "```",
        ".venv/bin/python -m bench.request_capacity --record",
        "```",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--record", action="store_true", help="rewrite this benchmark's section of BENCHMARKS.md")
    add("--strict", action="store_true", help="exit 1 when a target is missed")
    add("--runs", type=int, default=3, help="quiet/pressure pairs on the same stack; medians reported [3]")
    add("--worker-class", default="gevent", help="gunicorn worker class [gevent, as openwa api]")
    add("--workers", type=int, default=4, help="gunicorn workers [4]")
    add("--threads", type=int, default=4, help="gunicorn threads per worker, gthread only [4]")
    add("--rate", type=float, default=200.0, help="open-loop rate, req/s [200]")
    add("--rounds", type=int, default=8, help="open-loop measured blocks per request and phase [8]")
    add("--streams", type=int, default=500, help="event streams held open under pressure [500]")
    add("--slow", type=int, default=50, help="slow media downloads in flight under pressure [50]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return conclude(
        "request_capacity",
        parse_args(argv),
        run,
        record=lambda result: record_section(KEY, TITLE, markdown(result)),
        targets_met=lambda result: bool(result["pass"]["health_p99"] and result["pass"]["send_p99_ratio"]),
        valid=lambda result: bool(result["pass"]["valid"]),
        invalid="a request failed or the pressure was not held",
    )


if __name__ == "__main__":
    sys.exit(main())
