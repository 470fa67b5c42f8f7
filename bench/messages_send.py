"""Benchmark `POST /api/sessions/{id}/messages/send-text` (accept: 201 `{messageId, timestamp}`) against
`GET /api/health/live` on the same gunicorn, with a ready session whose runner is running.

The whole gateway runs on this machine (`bench.live_stack`: private redis-server, sandbox, the API on the
harness's gunicorn settings, one runner with the sandbox engine; pacing off) and a session is linked to a
sandbox phone. Load alternates between the two requests in short interleaved slices (A B B A ...), so both see
the same background load, including the runner sending what the benchmark queues:

1. open loop: a steady 200 req/s, 10 one-second blocks per request after a 2 s warm-up each; p50/p90/p99/max
   from each request's intended send time (target: send-text p99 < 15 ms);
2. saturation: 16 keep-alive connections back to back, 8 one-second slices per request; req/s
   (target: send-text / health-live >= 0.4).

Every accepted send is a real message: the runner keeps sending them to the sandbox phone during the run
(the queue it has not sent yet is reported). The measurement is repeated `--runs` times on the same stack;
the recorded figures are the medians, with each run's value. Prints one JSON object; `--record` rewrites
this benchmark's section of BENCHMARKS.md. Exit status: 0 for a valid run, 2 when any request failed, 1 with
`--strict` when a target is missed.

    .venv/bin/python -m bench.messages_send [--record] [--runs 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from typing import Any

import orjson

from bench.harness import (
    GunicornSettings,
    Target,
    build_request,
    closed_loop,
    conclude,
    machine_info,
    open_loop,
    pair_ratios,
    record_section,
    scratch_dir,
)
from bench.live_stack import LiveStack
from functions.cli.embedded import UP_RUNNER_NICE
from functions.queueing import session_queue_name

KEY = "messages_send"
TITLE = "Messages: send-text accept latency and throughput"
P99_MS_LT = 15.0
THROUGHPUT_RATIO_GTE = 0.4
ALICE, BOB = "15550001111", "15550002222"
BASELINE_PATH = "/api/health/live"


def build_post(path: str, port: int, headers: dict[str, str], body: Any) -> bytes:
    """A raw HTTP/1.1 POST with a JSON body (the harness's `build_request` sends no body)."""
    payload = orjson.dumps(body)
    head = build_request("POST", path, port, {**headers, "Content-Type": "application/json"})
    return head[:-2] + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b and not math.isnan(a) and not math.isnan(b) else math.nan


def measure(stack: LiveStack, targets: list[Target], args: argparse.Namespace) -> dict[str, Any]:
    """One run: the open loop, then saturation, on both targets (index 0 the app, 1 the baseline)."""
    started = time.monotonic()
    cpu0 = {name: stack.background_cpu_seconds(name) for name in ("runner", "sandbox")}
    steady = open_loop(targets, rate=args.rate, block=args.block, rounds=args.rounds, warmup=args.warmup)
    saturation = closed_loop(targets, connections=args.connections, rounds=args.sat_rounds, warmup=1.0)
    elapsed = time.monotonic() - started
    cores = {name: (stack.background_cpu_seconds(name) - cpu) / elapsed for name, cpu in cpu0.items()}
    app, base = {"open_loop": steady[0], "saturation": saturation[0]}, {"open_loop": steady[1]}
    base["saturation"] = saturation[1]
    per_round = pair_ratios(saturation[0]["slice_rps"], saturation[1]["slice_rps"])
    return {
        "app": app,
        "baseline": base,
        "p99_ms": steady[0]["p99_ms"],
        "throughput_ratio": _ratio(saturation[0]["rps"], saturation[1]["rps"]),
        "throughput_ratio_per_round_median": round(statistics.median(per_round), 3),
        "p50_ratio": _ratio(steady[0]["p50_ms"], steady[1]["p50_ms"]),
        "p99_ratio": _ratio(steady[0]["p99_ms"], steady[1]["p99_ms"]),
        "cpu_ratio": _ratio(saturation[0]["server_cpu_ms_per_req"], saturation[1]["server_cpu_ms_per_req"]),
        "errors": sum(r["errors"] for r in (*steady, *saturation)),
        "runner_cores": round(cores["runner"], 2),
        "sandbox_cores": round(cores["sandbox"], 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = GunicornSettings(workers=args.workers, threads=args.threads, worker_class=args.worker_class)
    with scratch_dir("bench-messages-send-") as workdir, LiveStack(workdir, settings) as stack:
        session_id = stack.link_session("alice", ALICE)
        stack.add_phone(BOB, "bob")
        assert stack.api is not None
        port, pids = stack.api.port, stack.api.worker_pids()
        headers = {"X-API-Key": stack.master_key}
        path = f"/api/sessions/{session_id}/messages/send-text"
        send = build_post(path, port, headers, {"chatId": BOB, "text": "benchmark text"})
        live = build_request("GET", BASELINE_PATH, port)
        targets = [Target("send-text", port, send, pids), Target("health-live", port, live, pids)]
        runs = [measure(stack, targets, args) for _ in range(args.runs)]
        depth = stack.runner_queue_depth(session_queue_name(session_id))
    return summarise(runs, settings, args, depth)


def _median(runs: list[dict[str, Any]], name: str) -> float:
    return round(float(statistics.median(r[name] for r in runs)), 3)


def summarise(
    runs: list[dict[str, Any]], settings: GunicornSettings, args: argparse.Namespace, depth: int
) -> dict[str, Any]:
    p99, ratio = _median(runs, "p99_ms"), _median(runs, "throughput_ratio")
    errors = sum(r["errors"] for r in runs)
    return {
        "benchmark": KEY,
        "median": {
            name: _median(runs, name)
            for name in ("p99_ms", "throughput_ratio", "p50_ratio", "p99_ratio", "cpu_ratio")
        },
        "runs": runs,
        "queue_left_unsent": depth,
        "targets": {"p99_ms_lt": P99_MS_LT, "throughput_ratio_gte": THROUGHPUT_RATIO_GTE},
        "pass": {
            "p99": p99 < P99_MS_LT,
            "throughput_ratio": ratio >= THROUGHPUT_RATIO_GTE,
            "valid": not errors,
        },
        "settings": {
            "gunicorn": " ".join(settings.args()),
            "rate": args.rate,
            "rounds": args.rounds,
            "block_s": args.block,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "sat_rounds": args.sat_rounds,
            "runs": args.runs,
        },
        "machine": machine_info(),
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:g}"
    return str(value)


def markdown(result: dict[str, Any]) -> str:
    runs, med, ok, s, m = (
        result["runs"],
        result["median"],
        result["pass"],
        result["settings"],
        result["machine"],
    )
    verdict = {True: "pass", False: "**FAIL**"}
    ol, sat = "open_loop", "saturation"
    rows: list[tuple[str, Any]] = [
        ("send-text open loop p50 (ms)", lambda r: r["app"][ol]["p50_ms"]),
        ("send-text open loop p99 (ms)", lambda r: r["app"][ol]["p99_ms"]),
        ("health-live open loop p50 (ms)", lambda r: r["baseline"][ol]["p50_ms"]),
        ("health-live open loop p99 (ms)", lambda r: r["baseline"][ol]["p99_ms"]),
        ("p99 ratio send-text / health-live", lambda r: r["p99_ratio"]),
        ("send-text saturation (req/s)", lambda r: r["app"][sat]["rps"]),
        ("health-live saturation (req/s)", lambda r: r["baseline"][sat]["rps"]),
        ("**throughput ratio send-text / health-live**", lambda r: r["throughput_ratio"]),
        ("send-text saturation p50 (ms)", lambda r: r["app"][sat]["p50_ms"]),
        ("send-text saturation p99 (ms)", lambda r: r["app"][sat]["p99_ms"]),
        ("server CPU per request, send-text (ms)", lambda r: r["app"][sat]["server_cpu_ms_per_req"]),
        ("server CPU per request, health-live (ms)", lambda r: r["baseline"][sat]["server_cpu_ms_per_req"]),
        ("load generator's send lag p99 (ms)", lambda r: r["app"][ol]["send_lag_p99_ms"]),
        ("cores used meanwhile by the runner (with Chromium)", lambda r: r["runner_cores"]),
        ("cores used meanwhile by the sandbox (WhatsApp's side)", lambda r: r["sandbox_cores"]),
    ]
    header = " | ".join(f"run {index + 1}" for index in range(len(runs)))
    lines = [
        f"Latest run: {m['date']}, {m['cores']} cores (load average {m['loadavg']}), Python {m['python']}.",
        f"`gunicorn {s['gunicorn']}`; a session linked to a sandbox phone, its runner sending what is queued "
        f"(pacing off, rate limiting off: on by default, 20/s per IP would refuse this one-client load; at "
        f"`RUNNER_NICE={UP_RUNNER_NICE}`, as `openwa up` runs it). Open loop: "
        f"{s['rate']:g} req/s, {s['rounds']} x {s['block_s']:g} s blocks per "
        f"request after {s['warmup_s']:g} s warm-up, latency from the intended send time. Saturation: "
        f"{s['connections']} keep-alive connections, {s['sat_rounds']} x 1 s slices per request. Baseline: "
        f"`GET {BASELINE_PATH}` on the same server, interleaved with the sends. {s['runs']} runs on one "
        f"stack, medians below ({result['queue_left_unsent']} accepted sends were still queued at the end).",
        "",
        f"- send-text p99 at {s['rate']:g} req/s: **{med['p99_ms']:g} ms** (target < {P99_MS_LT:g} ms): "
        f"{verdict[ok['p99']]}",
        f"- saturation throughput ratio send-text / health-live: **{med['throughput_ratio']:g}** "
        f"(target ≥ {THROUGHPUT_RATIO_GTE:g}): {verdict[ok['throughput_ratio']]}",
        "",
        f"| metric | {header} |",
        "| --- |" + " ---: |" * len(runs),
        *(f"| {name} | " + " | ".join(_fmt(get(r)) for r in runs) + " |" for name, get in rows),
        "",
        "```",
        ".venv/bin/python -m bench.messages_send --record",
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
    add("--runs", type=int, default=3, help="measurements on the same stack; medians are reported [3]")
    add("--worker-class", default="gevent", help="gunicorn worker class [gevent, as openwa api]")
    add("--workers", type=int, default=4, help="gunicorn workers [4]")
    add("--threads", type=int, default=4, help="gunicorn threads per worker [4]")
    add("--rate", type=float, default=200.0, help="open-loop rate, req/s [200]")
    add("--block", type=float, default=1.0, help="open-loop block length, s [1]")
    add("--rounds", type=int, default=10, help="open-loop measured blocks per request [10]")
    add("--warmup", type=float, default=2.0, help="open-loop warm-up per request, s [2]")
    add("--connections", type=int, default=16, help="saturation connections [16]")
    add("--sat-rounds", type=int, default=8, help="saturation measured slices per request [8]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return conclude(
        "messages_send",
        parse_args(argv),
        run,
        record=lambda result: record_section(KEY, TITLE, markdown(result)),
        targets_met=lambda result: bool(result["pass"]["p99"] and result["pass"]["throughput_ratio"]),
        valid=lambda result: bool(result["pass"]["valid"]),
    )


if __name__ == "__main__":
    sys.exit(main())
