"""Benchmark `GET /api/sessions` (valid API key) on gunicorn against a hello-world Flask baseline.

The real app (`functions.wsgi:app`, with a private redis-server and 20 seeded sessions) and the baseline
(`bench.hello_app:app`) run side by side under gunicorn with identical settings. Load alternates between them
in short interleaved slices (A B B A A B ...), so both see the same background load of a noisy machine:

1. open loop: a steady 200 req/s, 10 one-second blocks per app after a 2 s warm-up each; p50/p90/p99/max
   measured from each request's intended send time (target: app p99 < 10 ms);
2. saturation: 16 keep-alive connections (spread evenly over the workers) back to back, 8 one-second slices
   per app after a 1 s warm-up each; req/s (target: app/baseline >= 0.5).

Prints one JSON object. `--record` also rewrites this benchmark's section of BENCHMARKS.md. `--self-check`
measures the baseline against a second copy of itself: the harness's own noise. Exit status: 0 for a valid
run, 2 when any request failed (the figures are then meaningless), 1 with `--strict` when a target is missed.

    .venv/bin/python -m bench.api_sessions [--record] [--self-check]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import secrets
import statistics
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/api_sessions.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    BenchError,
    Gunicorn,
    GunicornSettings,
    RedisServer,
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

APP_TARGET = "functions.wsgi:app"
BASELINE_TARGET = "bench.hello_app:app"
PATH = "/api/sessions"
P99_MS_LT = 10.0
THROUGHPUT_RATIO_GTE = 0.5
ROLES = ("app", "baseline")
TITLE = "API: GET /api/sessions"
SELF_CHECK_TITLE = "API: GET /api/sessions — harness noise (baseline vs a copy of itself)"


def _call(port: int, method: str, path: str, key: str | None, body: Any = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept": "application/json"}
    if key is not None:
        headers["X-API-Key"] = key
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def seed_sessions(port: int, key: str, count: int) -> None:
    for index in range(count):
        status, body = _call(port, "POST", PATH, key, {"name": f"bench-{index:02d}"})
        if status not in (200, 201):
            raise BenchError(f"seeding POST {PATH} answered {status}: {body[:300]!r}")


def check_listing(port: int, key: str | None, minimum: int) -> int:
    status, body = _call(port, "GET", PATH, key)
    if status != 200:
        raise BenchError(f"GET {PATH} answered {status}: {body[:300]!r}")
    listing = json.loads(body)
    if not isinstance(listing, list) or len(listing) < minimum:
        raise BenchError(f"GET {PATH} returned {body[:300]!r}, expected a list of at least {minimum}")
    return len(listing)


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b and not math.isnan(a) and not math.isnan(b) else math.nan


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = GunicornSettings(workers=args.workers, threads=args.threads, worker_class=args.worker_class)
    app_target = BASELINE_TARGET if args.self_check else args.target
    key = secrets.token_hex(20)  # 40 characters
    results: dict[str, dict[str, Any]] = {}
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(scratch_dir("bench-api-sessions-"))
        redis = stack.enter_context(RedisServer())
        env = dict(os.environ)
        env.update(
            REDIS_URL=redis.url,
            DATA_DIR=str(workdir / "data"),
            API_MASTER_KEY=key,
            # Off, and said so in the results: on by default (20/s per IP), it would answer this one-client
            # load with 429s; what is measured is the listing, as behind a gateway's own limiter.
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="warning",
            MAX_SESSIONS=str(max(100, args.sessions)),
        )
        servers = {
            role: stack.enter_context(Gunicorn(target, settings, env, workdir))
            for role, target in zip(ROLES, (app_target, BASELINE_TARGET), strict=True)
        }
        targets: list[Target] = []
        try:
            for role, server in servers.items():
                real = server.target != BASELINE_TARGET
                if real:
                    seed_sessions(server.port, key, args.sessions)
                items = check_listing(server.port, key, args.sessions if real else 1)
                headers = {"X-API-Key": key} if real else {}
                raw = build_request("GET", PATH, server.port, headers)
                # The app's CPU is its workers' plus Redis's (the baseline uses no Redis).
                pids = [*server.worker_pids(), redis.pid] if real else server.worker_pids()
                targets.append(Target(role, server.port, raw, pids))
                results[role] = {"target": server.target, "listed_items": items}
            steady = open_loop(
                targets, rate=args.rate, block=args.block, rounds=args.rounds, warmup=args.warmup
            )
            saturation = closed_loop(
                targets,
                connections=args.connections,
                slice_=args.slice,
                rounds=args.sat_rounds,
                warmup=args.sat_warmup,
            )
        except BenchError as exc:
            logs = "\n".join(f"--- {role} gunicorn output ---\n{s.output()}" for role, s in servers.items())
            raise BenchError(f"{exc}\n{logs}") from None
        for role, ol, sat in zip(ROLES, steady, saturation, strict=True):
            results[role].update(open_loop=ol, saturation=sat)
    return summarise(results, settings, args)


def summarise(
    results: dict[str, dict[str, Any]], settings: GunicornSettings, args: argparse.Namespace
) -> dict[str, Any]:
    app, base = results["app"], results["baseline"]
    p99 = app["open_loop"]["p99_ms"]
    ratio_tp = _ratio(app["saturation"]["rps"], base["saturation"]["rps"])
    per_round = pair_ratios(app["saturation"]["slice_rps"], base["saturation"]["slice_rps"])
    errors = sum(results[role][phase]["errors"] for role in ROLES for phase in ("open_loop", "saturation"))
    return {
        "benchmark": "api_sessions",
        "mode": "self-check" if args.self_check else "app-vs-baseline",
        "app": app,
        "baseline": base,
        "ratio": {
            "throughput": ratio_tp,
            "throughput_per_round": {
                "min": round(min(per_round), 3),
                "median": round(statistics.median(per_round), 3),
                "max": round(max(per_round), 3),
            },
            "p50": _ratio(app["open_loop"]["p50_ms"], base["open_loop"]["p50_ms"]),
            "p99": _ratio(p99, base["open_loop"]["p99_ms"]),
            "cpu_per_request": _ratio(
                app["saturation"]["server_cpu_ms_per_req"], base["saturation"]["server_cpu_ms_per_req"]
            ),
        },
        "targets": {"p99_ms_lt": P99_MS_LT, "throughput_ratio_gte": THROUGHPUT_RATIO_GTE},
        "pass": {
            "p99": p99 < P99_MS_LT,
            "throughput_ratio": ratio_tp >= THROUGHPUT_RATIO_GTE,
            "valid": errors == 0,
        },
        "settings": {
            "gunicorn": " ".join(settings.args()),
            "rate_limiting": "off (RATE_LIMIT_ENABLED=false; on by default)",
            "server_cpu": "gunicorn workers + redis-server for the app; workers for the baseline",
            "sessions_seeded": 0 if args.self_check else args.sessions,
            "rate": args.rate,
            "block_s": args.block,
            "rounds": args.rounds,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "slice_s": args.slice,
            "sat_rounds": args.sat_rounds,
            "sat_warmup_s": args.sat_warmup,
        },
        "machine": machine_info(),
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:g}"
    return str(value)


def markdown(result: dict[str, Any], command: str) -> str:
    app, base, ratio, ok = result["app"], result["baseline"], result["ratio"], result["pass"]
    self_check = result["mode"] == "self-check"
    ol, sat = "open_loop", "saturation"
    spread = ratio["throughput_per_round"]
    verdict = {True: "pass", False: "**FAIL**"}

    def row(name: str, a: Any, b: Any, r: Any = "") -> str:
        return f"| {name} | {_fmt(a)} | {_fmt(b)} | {_fmt(r)} |"

    per_round = f"{spread['min']:g} / {spread['median']:g} / {spread['max']:g}"
    rows = [
        row("open loop p50 (ms)", app[ol]["p50_ms"], base[ol]["p50_ms"], ratio["p50"]),
        row("open loop p90 (ms)", app[ol]["p90_ms"], base[ol]["p90_ms"]),
        row("open loop p99 (ms)", app[ol]["p99_ms"], base[ol]["p99_ms"], ratio["p99"]),
        row("open loop max (ms)", app[ol]["max_ms"], base[ol]["max_ms"]),
        row(
            "— load generator's own send lag p99 (ms)",
            app[ol]["send_lag_p99_ms"],
            base[ol]["send_lag_p99_ms"],
        ),
        row("saturation throughput (req/s)", app[sat]["rps"], base[sat]["rps"], ratio["throughput"]),
        row("— per-round ratio min / median / max", "", "", per_round),
        row("saturation p50 (ms)", app[sat]["p50_ms"], base[sat]["p50_ms"]),
        row("saturation p99 (ms)", app[sat]["p99_ms"], base[sat]["p99_ms"]),
        row(
            "server CPU per request (ms)",
            app[sat]["server_cpu_ms_per_req"],
            base[sat]["server_cpu_ms_per_req"],
            ratio["cpu_per_request"],
        ),
        row(
            "errors (open loop + saturation)",
            app[ol]["errors"] + app[sat]["errors"],
            base[ol]["errors"] + base[sat]["errors"],
        ),
    ]
    s, m = result["settings"], result["machine"]
    first = "baseline copy" if self_check else "app"
    lines = [
        f"Latest run: {m['date']}, {m['cores']} cores (load average {m['loadavg']}), Python {m['python']}.",
        f"Both on `gunicorn {s['gunicorn']}`; {s['sessions_seeded']} sessions seeded. Open loop: "
        f"{s['rate']:g} req/s, {s['rounds']} x {s['block_s']:g} s blocks per app (after {s['warmup_s']:g} s "
        f"warm-up), latency from the intended send time. Saturation: {s['connections']} keep-alive "
        f"connections, {s['sat_rounds']} x {s['slice_s']:g} s slices per app. Rate limiting: "
        f"{s['rate_limiting']}. Server CPU: {s['server_cpu']}.",
        "",
    ]
    if not self_check:
        lines += [
            f"- p99 at {s['rate']:g} req/s: **{app[ol]['p99_ms']:g} ms** (target < {P99_MS_LT:g} ms): "
            f"{verdict[ok['p99']]}",
            f"- saturation throughput ratio app/baseline: **{ratio['throughput']:g}** "
            f"(target ≥ {THROUGHPUT_RATIO_GTE:g}): {verdict[ok['throughput_ratio']]}",
            "",
        ]
    lines += [f"| metric | {first} | baseline | ratio |", "| --- | ---: | ---: | ---: |", *rows]
    lines += ["", "```", command, "```"]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--record", action="store_true", help="rewrite this benchmark's section of BENCHMARKS.md")
    add("--self-check", action="store_true", help="baseline vs a copy of itself: the harness's noise")
    add("--strict", action="store_true", help="exit 1 when a target is missed")
    add("--target", default=APP_TARGET, help=f"WSGI app to measure [{APP_TARGET}]")
    add("--worker-class", default="gevent", help="gunicorn worker class, both apps [gevent, as openwa api]")
    add("--workers", type=int, default=4, help="gunicorn workers, both apps [4]")
    add("--threads", type=int, default=4, help="gunicorn threads per worker, both apps [4]")
    add("--sessions", type=int, default=20, help="sessions seeded before measuring [20]")
    add("--rate", type=float, default=200.0, help="open-loop rate, req/s [200]")
    add("--block", type=float, default=1.0, help="open-loop block length, s [1]")
    add("--rounds", type=int, default=10, help="open-loop measured blocks per app [10]")
    add("--warmup", type=float, default=2.0, help="open-loop warm-up per app, s [2]")
    add("--connections", type=int, default=16, help="saturation connections [16]")
    add("--slice", type=float, default=1.0, help="saturation slice length, s [1]")
    add("--sat-rounds", type=int, default=8, help="saturation measured slices per app [8]")
    add("--sat-warmup", type=float, default=1.0, help="saturation warm-up per app, s [1]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def record(result: dict[str, Any]) -> None:
        flags = " --self-check" if args.self_check else ""
        command = f".venv/bin/python -m bench.api_sessions --record{flags}"
        if args.self_check:
            record_section("api_sessions_selfcheck", SELF_CHECK_TITLE, markdown(result, command))
        else:
            record_section("api_sessions", TITLE, markdown(result, command))

    return conclude(
        "api_sessions",
        args,
        run,
        record=record,
        targets_met=lambda result: bool(result["pass"]["p99"] and result["pass"]["throughput_ratio"]),
        valid=lambda result: bool(result["pass"]["valid"]),
    )


if __name__ == "__main__":
    sys.exit(main())
