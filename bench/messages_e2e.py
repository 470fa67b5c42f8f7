"""End-to-end message latency on the sandbox: API -> phone inbox, and phone -> stored record.

The whole gateway runs on this machine (`bench.live_stack`, pacing off) with a session (Alice) linked to a
sandbox phone; Bob and Carol are phones. What a phone receives is pushed to the benchmark by a device
linked to it (`runner.sandbox.feed.PhoneFeed`), so arrivals are timed without polling the sandbox.

0. capacity: `--burst` (100) sends accepted at once; how many per second the runner then sends, which
   bounds the rate any steady latency can be measured at;
1. outbound: `POST .../messages/send-text` to Bob at a steady `--rate` (20 msg/s), each latency from the
   request's intended send time to the message reaching Bob's phone (target p99 < 500 ms). Baseline, in
   interleaved blocks (A B B A ...) at the same rate: Carol sends Bob a text through the sandbox's control
   API, timed the same way — the sandbox's own relay, which every send pays.
2. inbound: Bob sends Alice a text through the control API, one at a time; the latency runs to the first
   `GET /api/sessions/{id}/messages?chatId=<Bob>&limit=1` (polled back to back on one keep-alive
   connection) that shows it. Baseline, on the same messages: the same text reaching a second device
   linked to Alice's phone (the sandbox's delivery to the session's browser and to this device coincide).

Figures are p50/p99 with the ratio to the baseline; the measurement is repeated `--runs` times on one stack
and the medians are recorded. Prints one JSON object; `--record` rewrites this benchmark's section of
BENCHMARKS.md. Exit status 2 when a request failed or a message never arrived, 1 with `--strict` when the
outbound target is missed.

    .venv/bin/python -m bench.messages_e2e [--record] [--runs 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.harness import (
    BenchError,
    GunicornSettings,
    conclude,
    machine_info,
    percentile,
    record_section,
    scratch_dir,
)
from bench.live_stack import LiveStack
from functions.cli.embedded import UP_RUNNER_NICE
from runner.sandbox.feed import PhoneFeed

KEY = "messages_e2e"
TITLE = "Messages: end-to-end latency on the sandbox"
P99_MS_LT = 500.0
ALICE, BOB, CAROL = "15550001111", "15550002222", "15550003333"
ARRIVAL_TIMEOUT_S = 30.0


class Arrivals:
    """Monotonic arrival times of messages at one feed, by bare message id and by body."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.by_id: dict[str, float] = {}
        self.by_body: dict[str, float] = {}

    def __call__(self, message: dict[str, Any], at: float) -> None:
        with self._cond:
            self.by_id.setdefault(str(message["id"]["id"]), at)
            self.by_body.setdefault(str(message.get("body")), at)
            self._cond.notify_all()

    def wait(self, done: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(done, timeout)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _summary(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "p50_ms": _ms(percentile(ordered, 50)),
        "p90_ms": _ms(percentile(ordered, 90)),
        "p99_ms": _ms(percentile(ordered, 99)),
        "max_ms": _ms(ordered[-1]) if ordered else math.nan,
    }


class E2E:
    """The stack, the session, the feeds and the HTTP clients of one benchmark."""

    def __init__(self, stack: LiveStack, session_id: str, bob: Arrivals, alice: Arrivals) -> None:
        self.stack, self.session_id, self.bob, self.alice = stack, session_id, bob, alice
        headers = {"X-API-Key": stack.master_key}
        self.api = httpx.Client(base_url=stack.api_url, headers=headers, timeout=10.0)
        self.poller = httpx.Client(base_url=stack.api_url, headers=headers, timeout=10.0)
        self.sandbox = httpx.Client(base_url=stack.sandbox_url, timeout=10.0)
        self.sequence = 0

    def close(self) -> None:
        for client in (self.api, self.poller, self.sandbox):
            client.close()

    def _next_text(self, kind: str) -> str:
        self.sequence += 1
        return f"{kind} {self.sequence:06d}"

    # -- outbound -------------------------------------------------------------------------------------

    def _send_via_api(self, text: str, intended: float, pending: dict[str, float]) -> None:
        body = {"chatId": BOB, "text": text}
        response = self.api.post(f"/api/sessions/{self.session_id}/messages/send-text", json=body)
        if response.status_code != 201:
            raise BenchError(f"send-text answered {response.status_code}: {response.text[:300]}")
        pending[response.json()["messageId"].rsplit("_", 1)[1]] = intended

    def _send_via_sandbox(self, text: str, intended: float, pending: dict[str, float]) -> None:
        body = {"to": f"{BOB}@c.us", "text": text}
        response = self.sandbox.post(f"/_sandbox/phones/{CAROL}/messages", json=body)
        if response.status_code != 201:
            raise BenchError(f"the sandbox send answered {response.status_code}: {response.text[:300]}")
        pending[str(response.json()["stanzaId"])] = intended

    def outbound_block(self, via_api: bool, rate: float, seconds: float) -> list[float]:
        """`rate` sends per second for `seconds` (one thread per send, so a slow answer delays no other);
        the latencies from each intended send time to Bob's phone, once all arrived."""
        send = self._send_via_api if via_api else self._send_via_sandbox
        pending: dict[str, float] = {}
        errors: list[BaseException] = []
        threads: list[threading.Thread] = []

        def one(text: str, intended: float) -> None:
            try:
                send(text, intended, pending)
            except BaseException as exc:  # reported below, after the block
                errors.append(exc)

        origin = time.monotonic() + 0.01
        for index in range(round(rate * seconds)):
            intended = origin + index / rate
            if (delay := intended - time.monotonic()) > 0:
                time.sleep(delay)
            text = self._next_text("api" if via_api else "relay")
            thread = threading.Thread(target=one, args=(text, intended))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        if errors:
            raise BenchError(f"a send failed: {errors[0]!r}")
        if not self.bob.wait(lambda: all(key in self.bob.by_id for key in pending), ARRIVAL_TIMEOUT_S):
            missing = [key for key in pending if key not in self.bob.by_id]
            raise BenchError(f"{len(missing)} of {len(pending)} messages never reached the phone")
        return [self.bob.by_id[key] - intended for key, intended in pending.items()]

    # -- inbound --------------------------------------------------------------------------------------

    def inbound_one(self, poll_times: list[float]) -> tuple[float, float]:
        """Bob sends Alice one text: (seconds until the API lists it, seconds until Alice's device has it)."""
        text = self._next_text("inbound")
        started = time.monotonic()
        body = {"to": f"{ALICE}@c.us", "text": text}
        response = self.sandbox.post(f"/_sandbox/phones/{BOB}/messages", json=body)
        if response.status_code != 201:
            raise BenchError(f"the sandbox send answered {response.status_code}: {response.text[:300]}")
        path = f"/api/sessions/{self.session_id}/messages"
        params: dict[str, str | int] = {"chatId": f"{BOB}@c.us", "limit": 1}
        while time.monotonic() - started < ARRIVAL_TIMEOUT_S:
            before = time.monotonic()
            listed = self.poller.get(path, params=params)
            now = time.monotonic()
            poll_times.append(now - before)
            if listed.status_code != 200:
                raise BenchError(f"GET {path} answered {listed.status_code}: {listed.text[:300]}")
            messages = listed.json()["messages"]
            if messages and messages[0]["body"] == text:
                if not self.alice.wait(lambda: text in self.alice.by_body, ARRIVAL_TIMEOUT_S):
                    raise BenchError("an inbound text never reached Alice's second device")
                return now - started, self.alice.by_body[text] - started
        raise BenchError(f"the inbound text {text!r} was not listed within {ARRIVAL_TIMEOUT_S:.0f} s")


def outbound(e2e: E2E, rate: float, args: argparse.Namespace) -> dict[str, Any]:
    """API sends and sandbox relays at `rate`, in interleaved blocks: p50/p99 of each and their ratios."""
    latencies: dict[str, list[float]] = {"api": [], "relay": []}
    for round_ in range(args.rounds):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for via_api in order:
            latencies["api" if via_api else "relay"] += e2e.outbound_block(via_api, rate, args.block)
    api, relay = _summary(latencies["api"]), _summary(latencies["relay"])
    return {
        "rate": rate,
        "api": api,
        "relay_baseline": relay,
        "p50_ratio": _ratio(api["p50_ms"], relay["p50_ms"]),
        "p99_ratio": _ratio(api["p99_ms"], relay["p99_ms"]),
    }


def measure(e2e: E2E, args: argparse.Namespace) -> dict[str, Any]:
    """One run: the runner's capacity, outbound at the target rate and at `--low-rate`, then inbound."""
    burst = e2e.outbound_block(True, args.burst * 10, 0.1)  # queued at once: how fast the runner drains
    capacity = round(len(burst) / max(burst), 1)
    at_rate, at_low_rate = outbound(e2e, args.rate, args), outbound(e2e, args.low_rate, args)
    inbound: list[float] = []
    device: list[float] = []
    polls: list[float] = []
    for _ in range(args.inbound):
        listed, delivered = e2e.inbound_one(polls)
        inbound.append(listed)
        device.append(delivered)
        time.sleep(args.inbound_gap)
    stored, floor = _summary(inbound), _summary(device)
    return {
        "runner_capacity_per_s": capacity,
        "outbound": at_rate,
        "outbound_low_rate": at_low_rate,
        "inbound": {"record_listed": stored, "device_baseline": floor},
        "inbound_p50_ratio": _ratio(stored["p50_ms"], floor["p50_ms"]),
        "inbound_p99_ratio": _ratio(stored["p99_ms"], floor["p99_ms"]),
        "inbound_poll_p50_ms": _ms(percentile(sorted(polls), 50)),
    }


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b and not math.isnan(a) and not math.isnan(b) else math.nan


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = GunicornSettings(workers=args.workers, threads=args.threads)
    with scratch_dir("bench-messages-e2e-") as workdir, LiveStack(workdir, settings) as stack:
        session_id = stack.link_session("alice", ALICE)
        stack.add_phone(BOB, "bob")
        stack.add_phone(CAROL, "carol")
        bob, alice = Arrivals(), Arrivals()
        with PhoneFeed(stack.sandbox_url, BOB, bob), PhoneFeed(stack.sandbox_url, ALICE, alice):
            e2e = E2E(stack, session_id, bob, alice)
            try:
                e2e.outbound_block(True, args.rate, args.warmup)  # warm-up: the first sends pay imports
                runs = [measure(e2e, args) for _ in range(args.runs)]
            finally:
                e2e.close()
    return summarise(runs, settings, args)


def summarise(
    runs: list[dict[str, Any]], settings: GunicornSettings, args: argparse.Namespace
) -> dict[str, Any]:
    def median(get: Callable[[dict[str, Any]], float]) -> float:
        return round(statistics.median(get(r) for r in runs), 2)

    p99 = median(lambda r: r["outbound"]["api"]["p99_ms"])
    return {
        "benchmark": KEY,
        "median": {
            "outbound_p50_ms": median(lambda r: r["outbound"]["api"]["p50_ms"]),
            "outbound_p99_ms": p99,
            "outbound_p50_ratio": median(lambda r: r["outbound"]["p50_ratio"]),
            "outbound_p99_ratio": median(lambda r: r["outbound"]["p99_ratio"]),
            "outbound_low_rate_p50_ms": median(lambda r: r["outbound_low_rate"]["api"]["p50_ms"]),
            "outbound_low_rate_p99_ms": median(lambda r: r["outbound_low_rate"]["api"]["p99_ms"]),
            "runner_capacity_per_s": median(lambda r: r["runner_capacity_per_s"]),
            "inbound_p50_ms": median(lambda r: r["inbound"]["record_listed"]["p50_ms"]),
            "inbound_p99_ms": median(lambda r: r["inbound"]["record_listed"]["p99_ms"]),
            "inbound_p50_ratio": median(lambda r: r["inbound_p50_ratio"]),
            "inbound_p99_ratio": median(lambda r: r["inbound_p99_ratio"]),
        },
        "runs": runs,
        "targets": {"outbound_p99_ms_lt": P99_MS_LT},
        "pass": {"outbound_p99": p99 < P99_MS_LT, "valid": True},
        "settings": {
            "gunicorn": " ".join(settings.args()),
            "rate": args.rate,
            "low_rate": args.low_rate,
            "block_s": args.block,
            "rounds": args.rounds,
            "inbound": args.inbound,
            "burst": args.burst,
            "runs": args.runs,
        },
        "machine": machine_info(),
    }


def _fmt(value: Any) -> str:
    return "n/a" if isinstance(value, float) and math.isnan(value) else f"{value:g}"


def markdown(result: dict[str, Any]) -> str:
    runs, med, ok, s, m = (
        result["runs"],
        result["median"],
        result["pass"],
        result["settings"],
        result["machine"],
    )
    verdict = {True: "pass", False: "**FAIL**"}
    inn = "inbound"
    rows: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        (
            f"runner capacity: {s['burst']} sends queued at once, sent per second",
            lambda r: r["runner_capacity_per_s"],
        ),
        *_outbound_rows("outbound", s["rate"]),
        *_outbound_rows("outbound_low_rate", s["low_rate"]),
        ("phone -> record listed by the API p50 (ms)", lambda r: r[inn]["record_listed"]["p50_ms"]),
        ("phone -> record listed by the API p99 (ms)", lambda r: r[inn]["record_listed"]["p99_ms"]),
        ("baseline: phone -> Alice's linked device p50 (ms)", lambda r: r[inn]["device_baseline"]["p50_ms"]),
        ("baseline: phone -> Alice's linked device p99 (ms)", lambda r: r[inn]["device_baseline"]["p99_ms"]),
        ("ratio p50 / p99", lambda r: f"{_fmt(r['inbound_p50_ratio'])} / {_fmt(r['inbound_p99_ratio'])}"),
        ("one poll of the listing p50 (ms)", lambda r: r["inbound_poll_p50_ms"]),
    ]
    header = " | ".join(f"run {index + 1}" for index in range(len(runs)))
    sent = round(s["rate"] * s["block_s"] * s["rounds"])
    lines = [
        f"Latest run: {m['date']}, {m['cores']} cores (load average {m['loadavg']}), Python {m['python']}.",
        f"`gunicorn {s['gunicorn']}`, one runner (`RUNNER_NICE={UP_RUNNER_NICE}`, as `openwa up`), "
        "pacing off, rate limiting off (on by default); arrivals pushed by devices linked to phones. "
        f"Outbound: {sent} send-text per run at {s['rate']:g} msg/s (and at {s['low_rate']:g} msg/s) in "
        f"{s['block_s']:g} s blocks interleaved "
        f"with the same number of phone -> phone sends through the sandbox (baseline), latency from the "
        f"intended send time. Inbound: {s['inbound']} texts per run, one at a time, to the first listing "
        f"`GET .../messages?chatId=...&limit=1` that shows it (polled back to back), against the same text "
        f"reaching a second device of Alice's phone. {s['runs']} runs on one stack, medians below.",
        "",
        f"- API -> phone p99 at {s['rate']:g} msg/s: **{med['outbound_p99_ms']:g} ms** (target < "
        f"{P99_MS_LT:g} ms): {verdict[ok['outbound_p99']]}; p50 {med['outbound_p50_ms']:g} ms, "
        f"{med['outbound_p50_ratio']:g} x the sandbox relay; the runner sends at most "
        f"{med['runner_capacity_per_s']:g} msg/s here; at {s['low_rate']:g} msg/s: p50 "
        f"{med['outbound_low_rate_p50_ms']:g} ms, p99 {med['outbound_low_rate_p99_ms']:g} ms",
        f"- phone -> stored record: **p50 {med['inbound_p50_ms']:g} ms, p99 {med['inbound_p99_ms']:g} ms** "
        f"({med['inbound_p50_ratio']:g} x / {med['inbound_p99_ratio']:g} x the delivery to a linked device)",
        "",
        f"| metric | {header} |",
        "| --- |" + " ---: |" * len(runs),
        *(f"| {name} | " + " | ".join(_cell(get(r)) for r in runs) + " |" for name, get in rows),
        "",
        "```",
        ".venv/bin/python -m bench.messages_e2e --record",
        "```",
    ]
    return "\n".join(lines)


def _outbound_rows(key: str, rate: float) -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    return [
        (f"API -> phone p50 at {rate:g} msg/s (ms)", lambda r: r[key]["api"]["p50_ms"]),
        (f"API -> phone p99 at {rate:g} msg/s (ms)", lambda r: r[key]["api"]["p99_ms"]),
        (
            f"baseline: sandbox relay p50 / p99 at {rate:g} msg/s (ms)",
            lambda r: _pair(r[key]["relay_baseline"]),
        ),
        ("ratio p50 / p99", lambda r: f"{_fmt(r[key]['p50_ratio'])} / {_fmt(r[key]['p99_ratio'])}"),
    ]


def _pair(summary: dict[str, Any]) -> str:
    return f"{_fmt(summary['p50_ms'])} / {_fmt(summary['p99_ms'])}"


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else _fmt(value)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--record", action="store_true", help="rewrite this benchmark's section of BENCHMARKS.md")
    add("--strict", action="store_true", help="exit 1 when the outbound target is missed")
    add("--runs", type=int, default=3, help="measurements on the same stack; medians are reported [3]")
    add("--workers", type=int, default=4, help="gunicorn workers [4]")
    add("--threads", type=int, default=4, help="gunicorn threads per worker [4]")
    add("--rate", type=float, default=20.0, help="outbound sends per second [20]")
    add("--low-rate", type=float, default=10.0, help="a second outbound rate, msg/s [10]")
    add("--block", type=float, default=5.0, help="outbound block length, s [5]")
    add("--rounds", type=int, default=2, help="outbound blocks per path and run [2]")
    add("--warmup", type=float, default=2.0, help="outbound warm-up, s [2]")
    add("--inbound", type=int, default=50, help="inbound texts per run [50]")
    add("--burst", type=int, default=100, help="sends queued at once to measure the runner's capacity [100]")
    add("--inbound-gap", type=float, default=0.05, help="pause between inbound texts, s [0.05]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return conclude(
        "messages_e2e",
        parse_args(argv),
        run,
        record=lambda result: record_section(KEY, TITLE, markdown(result)),
        targets_met=lambda result: bool(result["pass"]["outbound_p99"]),
    )


if __name__ == "__main__":
    sys.exit(main())
