"""Runner benchmark (sandbox): start -> qr_ready, restore -> ready, failover after SIGKILL, PSS per session.

    .venv/bin/python -m bench.runner_sessions [--sizes 1,5,10] [--record]

A private redis-server, `python -m runner.sandbox` and `python -m runner` processes (ENGINE_TYPE=sandbox,
Debian Chromium unless CHROMIUM_PATH says otherwise); sessions are created and commanded through the same
state and wake channel the API uses. Baseline, measured in the same run: a bare Playwright script that
launches the same Chromium and opens the same sandbox page until it shows a QR (what any gateway must pay),
so `start_to_qr_ratio` is our overhead over the browser itself. Memory is the proportional set size (PSS,
`/proc/<pid>/smaps_rollup`) of the runner's whole process tree, divided by the number of ready sessions,
with the share taken by Chromium processes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from bench.harness import RedisServer, machine_info, percentile, record_section, scratch_dir, wait_for_port
from functions.cli.redis_server import free_port
from functions.config import Settings, load_settings
from functions.core.clock import utcnow
from functions.core.enums import DesiredState, SessionStatus
from functions.core.models import Session
from functions.queueing import runner_wake_channel
from functions.state.keys import Keys
from functions.state.sessions import SessionRepository

TITLE = "Runner: sessions on the sandbox"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
LEASE_TTL = 10
BASELINE = """
import sys, time
from playwright.sync_api import sync_playwright
from runner.engines.webjs.browser import LAUNCH_ARGS
started = time.monotonic()
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=sys.argv[2], headless=True, args=LAUNCH_ARGS)
    page = browser.new_page()
    page.goto(sys.argv[1])
    page.wait_for_function("async () => !!(window.WPP && await WPP.conn.getAuthCode())")
    print(time.monotonic() - started)
    browser.close()
"""


class Bench:
    """One sandbox, Redis and runner environment; sessions driven through the session records."""

    def __init__(self, redis_url: str, workdir: Path) -> None:
        self.workdir = workdir
        port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{port}"
        self.env = dict(
            os.environ, REDIS_URL=redis_url, DATA_DIR=str(workdir / "data"), ENGINE_TYPE="sandbox"
        )
        self.env.update(SANDBOX_URL=self.sandbox_url + "/", CHROMIUM_PATH=CHROMIUM, LOG_LEVEL="warning")
        self.env.update(SESSION_LEASE_TTL=str(LEASE_TTL), MAX_SESSIONS="50")
        command = [
            sys.executable,
            "-m",
            "runner.sandbox",
            "--port",
            str(port),
            "--data-dir",
            str(workdir / "sb"),
        ]
        self.sandbox = subprocess.Popen(
            command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(port, 30, self.sandbox)
        self.settings: Settings = load_settings(
            _env_file=None, redis_url=redis_url, data_dir=workdir / "data"
        )
        self.conn = Redis.from_url(redis_url)
        self.keys = Keys(self.settings.redis_prefix)
        self.repo = SessionRepository(self.conn, self.keys)
        self.runners: list[subprocess.Popen[bytes]] = []

    def runner(self, runner_id: str) -> subprocess.Popen[bytes]:
        env = {**self.env, "RUNNER_ID": runner_id}
        process = subprocess.Popen([sys.executable, "-m", "runner"], env=env, stderr=subprocess.DEVNULL)
        self.runners.append(process)
        return process

    def close(self) -> None:
        for process in [*self.runners, self.sandbox]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(60)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.sandbox_url}/_sandbox{path}", timeout=30.0, **kwargs)
        response.raise_for_status()
        return response.json()

    def create(self, name: str) -> str:
        now = utcnow()
        session = Session(id=str(uuid.uuid4()), name=name, created_at=now, updated_at=now)
        return self.repo.create(session).id

    def command(self, session_id: str, desired: DesiredState, status: SessionStatus) -> None:
        self.repo.update(session_id, desired_state=desired, status=status)
        self.conn.publish(runner_wake_channel(self.settings.redis_prefix), session_id)

    def wait(self, session_id: str, status: SessionStatus, timeout: float = 120.0, after: str = "") -> float:
        """Seconds until the session has `status` (and, with `after`, connected after that ISO time)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            session = self.repo.get(session_id)
            connected = session.connected_at.isoformat() if session and session.connected_at else ""
            if session is not None and session.status is status and connected >= after:
                return time.monotonic() - started
            time.sleep(0.02)
        raise RuntimeError(f"session {session_id} not {status} within {timeout:.0f} s")

    def link(self, session_id: str, number: str) -> None:
        self.control("POST", "/phones", json={"number": number, "name": f"Phone {number[-2:]}"})
        qr = self.repo.get(session_id).qr  # type: ignore[union-attr]
        self.control("POST", f"/phones/{number}/link", json={"qr": qr})


def baseline_start(bench: Bench) -> float:
    command = [sys.executable, "-c", BASELINE, bench.sandbox_url + "/", CHROMIUM]
    return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip())


def tree_pss_kib(root: int) -> tuple[int, int]:
    """(PSS of `root` and all its descendants, PSS of the Chromium ones), KiB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total = chromium = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        pss = next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
        total += pss
        chromium += pss if "chrom" in name else 0
    return total, chromium


def run_sizes(bench: Bench, sizes: list[int]) -> tuple[list[float], list[dict[str, Any]], list[str]]:
    """Grow one runner to each size of ready sessions; start -> qr_ready times and PSS at each size."""
    runner = bench.runner("bench-a")
    qr_times: list[float] = []
    memory: list[dict[str, Any]] = []
    ready: list[str] = []
    for size in sizes:
        batch = [bench.create(f"s{len(ready) + index}") for index in range(size - len(ready))]
        for session_id in batch:  # one at a time, so the time is a start, not a queue behind others
            bench.command(session_id, DesiredState.RUNNING, SessionStatus.INITIALIZING)
            qr_times.append(bench.wait(session_id, SessionStatus.QR_READY))
            bench.link(session_id, f"1555000{len(ready):04d}")
            bench.wait(session_id, SessionStatus.READY)
            ready.append(session_id)
        time.sleep(3)  # let page work settle before sampling
        total, chromium = tree_pss_kib(runner.pid)
        memory.append(
            {
                "sessions": size,
                "pss_mib_per_session": round(total / 1024 / size, 1),
                "chromium_share": round(chromium / total, 3),
                "pss_mib_total": round(total / 1024, 1),
            }
        )
    return qr_times, memory, ready


def run_restore(bench: Bench, session_ids: list[str]) -> list[float]:
    """Stop then start sessions that have a snapshot: seconds from start to ready (no QR)."""
    times = []
    for session_id in session_ids:
        bench.command(session_id, DesiredState.STOPPED, SessionStatus.DISCONNECTED)
        while bench.conn.exists(bench.keys.session_lease(session_id)):
            time.sleep(0.05)
        after = utcnow().isoformat()
        bench.command(session_id, DesiredState.RUNNING, SessionStatus.INITIALIZING)
        times.append(bench.wait(session_id, SessionStatus.READY, after=after))
    return times


def run_failover(bench: Bench, session_id: str) -> float:
    """A second runner is up; SIGKILL the first (holding the session): seconds until ready on the second."""
    bench.runner("bench-b")
    for other in bench.repo.all_ids():
        if other != session_id:
            bench.command(other, DesiredState.STOPPED, SessionStatus.DISCONNECTED)
    time.sleep(LEASE_TTL / 2)
    after = utcnow().isoformat()
    bench.runners[0].kill()
    return bench.wait(session_id, SessionStatus.READY, after=after)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    with RedisServer() as redis, scratch_dir("bench-runner-") as workdir:
        bench = Bench(redis.url, workdir)
        try:
            base = sorted(baseline_start(bench) for _ in range(3))
            qr_times, memory, ready = run_sizes(bench, sizes)
            restores = sorted(run_restore(bench, ready[:5]))
            failover = run_failover(bench, ready[0])
        finally:
            bench.close()
    qr_sorted = sorted(qr_times)
    result = {
        "machine": machine_info(),
        "baseline_browser_to_qr_s_p50": round(percentile(base, 50), 2),
        "start_to_qr_ready_s": {
            "p50": round(percentile(qr_sorted, 50), 2),
            "p99": round(percentile(qr_sorted, 99), 2),
        },
        "start_to_qr_ratio": round(percentile(qr_sorted, 50) / percentile(base, 50), 2),
        "restore_to_ready_s": {"p50": round(percentile(restores, 50), 2), "max": round(restores[-1], 2)},
        "failover_after_sigkill_s": round(failover, 2),
        "session_lease_ttl_s": LEASE_TTL,
        "memory": memory,
    }
    print(json.dumps(result, indent=2))
    if args.record:
        record_section("runner_sessions", TITLE, _markdown(result))
    return 0


def _markdown(result: dict[str, Any]) -> str:
    machine, qr, restore = result["machine"], result["start_to_qr_ready_s"], result["restore_to_ready_s"]
    ttl = result["session_lease_ttl_s"]
    figures = [
        ("session start -> `qr_ready`", f"p50 {qr['p50']} s, p99 {qr['p99']} s"),
        (
            "baseline: bare Playwright launch + page until a QR",
            f"p50 {result['baseline_browser_to_qr_s_p50']} s",
        ),
        ("ratio start -> `qr_ready` / baseline", str(result["start_to_qr_ratio"])),
        ("restore from snapshot -> `ready` (no QR)", f"p50 {restore['p50']} s, max {restore['max']} s"),
        (
            f"failover after SIGKILL -> `ready` elsewhere (TTL {ttl} s; target < 20 s)",
            f"{result['failover_after_sigkill_s']} s",
        ),
    ]
    lines = [
        f"Latest run: {machine['date']}, {machine['cores']} cores (load average {machine['loadavg']}), "
        f"Python {machine['python']}.",
        "`.venv/bin/python -m bench.runner_sessions --record`; Debian Chromium, headless, sandbox engine.",
        "",
        "| figure | value |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in figures),
        "",
        "Proportional memory (PSS) of the runner's process tree (supervisor, session processes, Playwright",
        "drivers, Chromium), per ready session:",
        "",
        "| ready sessions | PSS per session (MiB) | PSS total (MiB) | Chromium's share |",
        "| --- | --- | --- | --- |",
        *(_memory_row(m) for m in result["memory"]),
    ]
    return "\n".join(lines)


def _memory_row(m: dict[str, Any]) -> str:
    return (
        f"| {m['sessions']} | {m['pss_mib_per_session']} | {m['pss_mib_total']} | {m['chromium_share']:.0%} |"
    )


if __name__ == "__main__":
    sys.exit(main())
