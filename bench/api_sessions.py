"""Benchmark `GET /api/sessions` (valid API key) on gunicorn against a hello-world Flask baseline.

For the real app (`functions.wsgi:app`, with a private redis-server and 20 seeded sessions) and then for the
baseline (`bench.hello_app:app`), served by gunicorn with identical settings:

1. open loop: a steady 200 req/s for 10 s after a 2 s warm-up; p50/p90/p99/max measured from each request's
   intended send time (target: app p99 < 10 ms);
2. saturation: 16 keep-alive connections back to back for 8 s after a 1 s warm-up; req/s (target: app/baseline
   >= 0.5).

Prints one JSON object. `--record` also rewrites this benchmark's section of BENCHMARKS.md. `--self-check`
runs the baseline against itself to show the harness's own noise. Exit status: 0 for a valid run, 2 when any
request failed (the figures are then meaningless), 1 with `--strict` when a target is missed.

    .venv/bin/python -m bench.api_sessions [--record] [--self-check]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import secrets
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
    build_request,
    closed_loop,
    machine_info,
    open_loop,
    record_section,
    scratch_dir,
)

APP_TARGET = "functions.wsgi:app"
BASELINE_TARGET = "bench.hello_app:app"
PATH = "/api/sessions"
P99_MS_LT = 10.0
THROUGHPUT_RATIO_GTE = 0.5


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


def measure(server: Gunicorn, key: str | None, args: argparse.Namespace) -> dict[str, Any]:
    headers = {"X-API-Key": key} if key is not None else {}
    raw = build_request("GET", PATH, server.port, headers)
    pids = server.worker_pids()
    open_loop(server.port, raw, rate=args.rate, duration=args.warmup, server_pids=pids)  # warm-up, discarded
    steady = open_loop(server.port, raw, rate=args.rate, duration=args.duration, server_pids=pids)
    saturation = closed_loop(
        server.port,
        raw,
        connections=args.connections,
        duration=args.sat_duration,
        warmup=args.sat_warmup,
        server_pids=pids,
    )
    return {"target": server.target, "open_loop": steady, "saturation": saturation}


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b and not math.isnan(a) and not math.isnan(b) else math.nan


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = GunicornSettings(workers=args.workers, threads=args.threads, worker_class=args.worker_class)
    app_target = BASELINE_TARGET if args.self_check else args.target
    key = secrets.token_hex(20)  # 40 characters
    results: dict[str, Any] = {}
    with scratch_dir("bench-api-sessions-") as workdir, RedisServer() as redis:
        env = dict(os.environ)
        env.update(
            REDIS_URL=redis.url,
            DATA_DIR=str(workdir / "data"),
            API_MASTER_KEY=key,
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="warning",
            MAX_SESSIONS=str(max(100, args.sessions)),
        )
        for role, target in (("app", app_target), ("baseline", BASELINE_TARGET)):
            with Gunicorn(target, settings, env, workdir) as server:
                try:
                    real = target != BASELINE_TARGET
                    if real:
                        seed_sessions(server.port, key, args.sessions)
                    items = check_listing(server.port, key, args.sessions if real else 1)
                    results[role] = {**measure(server, key if real else None, args), "listed_items": items}
                except BenchError as exc:
                    raise BenchError(f"{exc}\n--- gunicorn output ---\n{server.output()}") from None
    app, base = results["app"], results["baseline"]
    p99 = app["open_loop"]["p99_ms"]
    ratio_tp = _ratio(app["saturation"]["rps"], base["saturation"]["rps"])
    errors = sum(
        results[r][phase]["errors"] for r in ("app", "baseline") for phase in ("open_loop", "saturation")
    )
    return {
        "benchmark": "api_sessions",
        "mode": "self-check" if args.self_check else "app-vs-baseline",
        "app": app,
        "baseline": base,
        "ratio": {
            "throughput": ratio_tp,
            "p99": _ratio(p99, base["open_loop"]["p99_ms"]),
            "p50": _ratio(app["open_loop"]["p50_ms"], base["open_loop"]["p50_ms"]),
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
            "sessions_seeded": 0 if args.self_check else args.sessions,
            "rate": args.rate,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "sat_duration_s": args.sat_duration,
        },
        "machine": machine_info(),
    }


def _fmt(value: float) -> str:
    return "n/a" if isinstance(value, float) and math.isnan(value) else f"{value:g}"


def markdown(result: dict[str, Any], command: str) -> str:
    app, base, ratio = result["app"], result["baseline"], result["ratio"]
    ok = result["pass"]
    self_check = result["mode"] == "self-check"
    title = (
        "API: GET /api/sessions — harness noise (baseline vs baseline)"
        if self_check
        else ("API: GET /api/sessions")
    )
    first = "baseline (as app)" if self_check else "app"
    ol, sat = "open_loop", "saturation"
    rows = [
        ("open loop p50 (ms)", app[ol]["p50_ms"], base[ol]["p50_ms"], ratio["p50"], ""),
        ("open loop p90 (ms)", app[ol]["p90_ms"], base[ol]["p90_ms"], "", ""),
        (
            "open loop p99 (ms)",
            app[ol]["p99_ms"],
            base[ol]["p99_ms"],
            ratio["p99"],
            f"app < {P99_MS_LT:g} ms: {'pass' if ok['p99'] else 'FAIL'}",
        ),
        ("open loop max (ms)", app[ol]["max_ms"], base[ol]["max_ms"], "", ""),
        ("open loop errors", app[ol]["errors"], base[ol]["errors"], "", "0"),
        (
            "saturation throughput (req/s)",
            app[sat]["rps"],
            base[sat]["rps"],
            ratio["throughput"],
            f"ratio ≥ {THROUGHPUT_RATIO_GTE:g}: {'pass' if ok['throughput_ratio'] else 'FAIL'}",
        ),
        (
            "saturation p50 / p99 (ms)",
            f"{app[sat]['p50_ms']:g} / {app[sat]['p99_ms']:g}",
            f"{base[sat]['p50_ms']:g} / {base[sat]['p99_ms']:g}",
            "",
            "",
        ),
        (
            "server CPU per request (ms)",
            app[sat]["server_cpu_ms_per_req"],
            base[sat]["server_cpu_ms_per_req"],
            ratio["cpu_per_request"],
            "",
        ),
        ("saturation errors", app[sat]["errors"], base[sat]["errors"], "", "0"),
    ]
    s = result["settings"]
    m = result["machine"]
    lines = [
        f"## {title}",
        "",
        f"Latest run: {m['date']}, {m['cores']} cores, Python {m['python']}, {m['platform']}.",
        f"Open loop: {s['rate']:g} req/s for {s['duration_s']:g} s after a {s['warmup_s']:g} s warm-up, "
        f"latency from the intended send time. Saturation: {s['connections']} keep-alive connections for "
        f"{s['sat_duration_s']:g} s. {s['sessions_seeded']} sessions seeded. Both apps on "
        f"`gunicorn {s['gunicorn']}`.",
        "",
        f"| metric | {first} | baseline | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {name} | {_fmt(a)} | {_fmt(b)} | {_fmt(r) if r != '' else ''} | {t} |"
        for name, a, b, r, t in rows
    ]
    lines += ["", "```", command, "```"]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--record", action="store_true", help="rewrite this benchmark's section of BENCHMARKS.md"
    )
    parser.add_argument("--self-check", action="store_true", help="baseline vs baseline: the harness's noise")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--target", default=APP_TARGET, help=f"WSGI app to measure [{APP_TARGET}]")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=20, help="sessions seeded before measuring [20]")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop rate, req/s [200]")
    parser.add_argument("--duration", type=float, default=10.0, help="open-loop measured seconds [10]")
    parser.add_argument("--warmup", type=float, default=2.0, help="open-loop warm-up seconds [2]")
    parser.add_argument("--connections", type=int, default=16, help="saturation connections [16]")
    parser.add_argument("--sat-duration", type=float, default=8.0, help="saturation measured seconds [8]")
    parser.add_argument("--sat-warmup", type=float, default=1.0, help="saturation warm-up seconds [1]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except BenchError as exc:
        print(f"bench.api_sessions: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    if not result["pass"]["valid"]:
        print("bench.api_sessions: requests failed, the run is not a valid measurement", file=sys.stderr)
        return 2
    if args.record:
        command = ".venv/bin/python -m bench.api_sessions --record" + (
            " --self-check" if args.self_check else ""
        )
        record_section(
            "api_sessions_selfcheck" if args.self_check else "api_sessions", markdown(result, command)
        )
    if args.strict and not (result["pass"]["p99"] and result["pass"]["throughput_ratio"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
