"""Where the time of `GET /api/sessions` goes: the real app in-process (Flask test client), under cProfile.

Starts a private redis-server, builds the app with the same settings as `bench.api_sessions`, seeds the
same sessions, then times a loop of requests (wall-clock per request, no profiler) and profiles another loop.
Prints the mean in-process time per request and the top functions by cumulative and by own time.

    .venv/bin/python -m bench.profile_api_sessions [--requests 500] [--top 35]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/profile_api_sessions.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import RedisServer, scratch_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500, help="requests per loop [500]")
    parser.add_argument("--sessions", type=int, default=20, help="sessions seeded [20]")
    parser.add_argument("--top", type=int, default=35, help="functions listed per table [35]")
    args = parser.parse_args(argv)
    key = secrets.token_hex(20)
    with scratch_dir("bench-profile-") as workdir, RedisServer() as redis:
        os.environ.update(
            REDIS_URL=redis.url,
            DATA_DIR=str(workdir / "data"),
            API_MASTER_KEY=key,
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="warning",
            MAX_SESSIONS=str(max(100, args.sessions)),
        )
        os.chdir(workdir)  # no stray `.env`
        from functions.api.app import create_app
        from functions.config import load_settings

        client = create_app(load_settings()).test_client()
        headers = {"X-API-Key": key}
        for index in range(args.sessions):
            response = client.post("/api/sessions", json={"name": f"bench-{index:02d}"}, headers=headers)
            if response.status_code not in (200, 201):
                print(f"seeding answered {response.status_code}: {response.data[:300]!r}", file=sys.stderr)
                return 2

        def loop() -> None:
            for _ in range(args.requests):
                response = client.get("/api/sessions", headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"GET /api/sessions answered {response.status_code}")

        loop()  # warm-up
        start, cpu_start = time.perf_counter(), time.process_time()
        loop()
        per_request_ms = 1000 * (time.perf_counter() - start) / args.requests
        cpu_per_request_ms = 1000 * (time.process_time() - cpu_start) / args.requests
        profiler = cProfile.Profile()
        profiler.runcall(loop)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    print(
        f"in-process GET /api/sessions ({args.sessions} sessions): {per_request_ms:.3f} ms per request, "
        f"{cpu_per_request_ms:.3f} ms CPU (this process)"
    )
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
