"""Benchmark `GET /api/search` over 200,000 stored messages in 20 sessions, and the index's Redis memory.

The real app (`functions.wsgi:app` on the harness's gunicorn settings, a private redis-server) with 20
sessions; their messages are written by `MessageRepository.create` (the records' own write path, which
writes the search postings in the same script), pipelined. Texts are 4 to 20 words drawn from a Zipf-like
vocabulary (rank r weighs 1/r^1.07; 20,000 made-up words, some accented), 10% image captions, half inbound,
50 chats per session, timestamps spread over the last 20 days.

1. latency: an admin key (every session searched) asks one-word and two-word queries, words drawn from the
   same distribution, half of them cut to a 3-5 character prefix; one keep-alive connection, queries
   interleaved with the baseline `GET /api/health/live` on the same server; p50/p99 of each (target: both
   query kinds p99 < 50 ms);
2. memory: Redis `used_memory` empty, after loading, and after deleting the index's keys: the index's bytes
   against the records' own (their hashes, by `MEMORY USAGE`, and with the other indexes kept for them)
   (target: index <= 2x the record hashes).

Prints one JSON object; `--record` rewrites this benchmark's section of BENCHMARKS.md. Exit status: 0 for a
valid run, 2 when a request failed, or with `--strict` when a target is missed.

    .venv/bin/python -m bench.search [--record] [--strict] [--messages 200000] [--sessions 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import statistics
import sys
import time
from typing import Any

import httpx
from redis import Redis

from bench.harness import (
    BenchError,
    Gunicorn,
    GunicornSettings,
    RedisServer,
    conclude,
    machine_info,
    percentile,
    record_section,
    scratch_dir,
)
from functions.state.keys import Keys
from functions.state.messages import MessageRepository

KEY = "search"
TITLE = "Search: message search latency and index memory"
P99_MS_LT = 50.0
INDEX_RATIO_LTE = 2.0
BASELINE_PATH = "/api/health/live"
RETENTION_DAYS = 30
PREFIX = "openwa"
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvz" for v in ("a", "e", "i", "o", "u", "é", "ä")]


def vocabulary(size: int, rng: random.Random) -> tuple[list[str], list[float]]:
    """`size` distinct made-up words (2-4 syllables) and their cumulative Zipf weights (rank r: 1/r^1.07)."""
    words: dict[str, None] = {}
    while len(words) < size:
        words.setdefault("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))), None)
    cumulative, total = [], 0.0
    for rank in range(1, size + 1):
        total += 1 / rank**1.07
        cumulative.append(total)
    return list(words), cumulative


def records(
    session_ids: list[str], count: int, rng: random.Random, vocab: tuple[list[str], list[float]]
) -> Any:
    """`count` message records spread over the sessions, as the inbox and the send route write them."""
    words, weights = vocab
    now = int(time.time())
    for n in range(count):
        session_id = session_ids[n % len(session_ids)]
        chat = f"1555{rng.randrange(50):07d}@c.us"
        inbound = rng.random() < 0.5
        text = " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(4, 20)))
        message_id = f"{'false' if inbound else 'true'}_{chat}_3EB0{n:016X}"
        yield {
            "id": message_id,
            "waMessageId": message_id,
            "sessionId": session_id,
            "chatId": chat,
            "from": chat if inbound else "15559990000@c.us",
            "to": "15559990000@c.us" if inbound else chat,
            "body": text[0].upper() + text[1:] + ".",
            "type": "image" if rng.random() < 0.1 else "text",
            "direction": "incoming" if inbound else "outgoing",
            "fromMe": not inbound,
            "isGroup": False,
            "timestamp": now - rng.randrange(20 * 86_400),
            "status": "delivered",
            "ack": 2,
            "hasMedia": False,
            "metadata": None,
            "error": None,
            "createdAt": "2026-12-01T00:00:00Z",
            "updatedAt": "2026-12-01T00:00:00Z",
        }


def load(conn: Redis, session_ids: list[str], args: argparse.Namespace, vocab: Any) -> float:
    """Write the messages through `MessageRepository.create`; returns the seconds it took."""
    repo = MessageRepository(conn, Keys(PREFIX), retention_seconds=RETENTION_DAYS * 86_400)
    started = time.perf_counter()
    pipe = conn.pipeline(transaction=False)
    for n, record in enumerate(records(session_ids, args.messages, random.Random(args.seed), vocab), 1):
        repo.create(record, pipeline=pipe)
        if n % 500 == 0:
            pipe.execute()
    pipe.execute()
    return time.perf_counter() - started


def queries(
    vocab: tuple[list[str], list[float]], count: int, per_query: int, rng: random.Random
) -> list[str]:
    """`count` queries of `per_query` words drawn by frequency, half of the words cut to a 3-5 char prefix."""
    words, weights = vocab
    found = []
    for _ in range(count):
        picked = rng.choices(words, cum_weights=weights, k=per_query)
        found.append(" ".join(w[: rng.randint(3, 5)] if rng.random() < 0.5 else w for w in picked))
    return found


def latencies(http: httpx.Client, asked: dict[str, list[str]], warmup: int) -> dict[str, Any]:
    """Each kind's queries in turn, each followed by the baseline request; ms per request and hits seen."""
    times: dict[str, list[float]] = {kind: [] for kind in (*asked, "baseline")}
    totals: dict[str, list[int]] = {kind: [] for kind in asked}
    rounds = zip(*asked.values(), strict=True)
    for index, round_ in enumerate(rounds):
        for kind, q in zip(asked, round_, strict=True):
            for name, path, params in ((kind, "/api/search", {"q": q}), ("baseline", BASELINE_PATH, {})):
                started = time.perf_counter()
                response = http.get(path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise BenchError(f"{name} answered {response.status_code}: {response.text[:300]}")
                if index >= warmup:
                    times[name].append(elapsed)
                    if name != "baseline":
                        totals[name].append(int(response.json()["total"]))
    result: dict[str, Any] = {}
    for name, values in times.items():
        ordered = sorted(values)
        result[name] = {
            "requests": len(values),
            "p50_ms": round(percentile(ordered, 50), 2),
            "p99_ms": round(percentile(ordered, 99), 2),
            "max_ms": round(ordered[-1], 2),
        }
        if name in totals:
            result[name]["median_total_hits"] = int(statistics.median(totals[name]))
    return result


def memory(conn: Redis, empty: int, loaded: int, count: int, rng: random.Random) -> dict[str, Any]:
    """The index's bytes (used_memory with it minus without it: its keys are deleted here), the records'."""
    sample = [key for key in conn.scan_iter(match=f"{PREFIX}:message:*", count=1000)]
    rng.shuffle(sample)
    hash_bytes = statistics.mean(int(conn.memory_usage(key, samples=0) or 0) for key in sample[:2000])
    with conn.pipeline(transaction=False) as pipe:
        for key in conn.scan_iter(match=f"{PREFIX}:search:*", count=1000):
            pipe.unlink(key)
        pipe.execute()
    time.sleep(1)  # UNLINK frees in the background
    without = int(conn.info("memory")["used_memory"])
    index = loaded - without
    records_bytes = hash_bytes * count
    return {
        "used_memory_empty": empty,
        "used_memory_loaded": loaded,
        "used_memory_without_index": without,
        "index_bytes_per_message": round(index / count, 1),
        "record_hash_bytes_per_message": round(hash_bytes, 1),
        "records_with_their_other_indexes_bytes_per_message": round((without - empty) / count, 1),
        "index_to_record_hash_ratio": round(index / records_bytes, 3),
        "index_to_records_with_indexes_ratio": round(index / (without - empty), 3),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = GunicornSettings(workers=args.workers, threads=args.threads, worker_class=args.worker_class)
    key = "owa_k1_" + secrets.token_hex(32)
    rng = random.Random(args.seed)
    vocab = vocabulary(args.vocabulary, rng)
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(scratch_dir("bench-search-"))
        redis = stack.enter_context(RedisServer())
        env = dict(os.environ)
        env.update(
            REDIS_URL=redis.url,
            REDIS_PREFIX=PREFIX,
            DATA_DIR=str(workdir / "data"),
            API_MASTER_KEY=key,
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="warning",
            MESSAGE_RETENTION_DAYS=str(RETENTION_DAYS),
        )
        server = stack.enter_context(Gunicorn("functions.wsgi:app", settings, env, workdir))
        http = stack.enter_context(
            httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers={"X-API-Key": key}, timeout=30)
        )
        session_ids = [
            http.post("/api/sessions", json={"name": f"bench-{n}"}).raise_for_status().json()["id"]
            for n in range(args.sessions)
        ]
        conn = stack.enter_context(Redis.from_url(redis.url))
        empty = int(conn.info("memory")["used_memory"])
        load_seconds = load(conn, session_ids, args, vocab)
        loaded = int(conn.info("memory")["used_memory"])
        asked = {f"{n}-word": queries(vocab, args.queries + args.warmup, n, rng) for n in (1, 2)}
        timing = latencies(http, asked, args.warmup)
        used = memory(conn, empty, loaded, args.messages, rng)
    return summarise(timing, used, load_seconds, settings, args)


def summarise(
    timing: dict[str, Any], used: dict[str, Any], load_seconds: float, settings: GunicornSettings, args: Any
) -> dict[str, Any]:
    worst = max(timing["1-word"]["p99_ms"], timing["2-word"]["p99_ms"])
    return {
        "benchmark": KEY,
        "latency": timing,
        "p99_ratio_to_baseline": {
            kind: round(timing[kind]["p99_ms"] / timing["baseline"]["p99_ms"], 2)
            for kind in ("1-word", "2-word")
        },
        "memory": used,
        "load": {
            "messages": args.messages,
            "seconds": round(load_seconds, 1),
            "per_second": round(args.messages / load_seconds),
        },
        "targets": {"p99_ms_lt": P99_MS_LT, "index_ratio_lte": INDEX_RATIO_LTE},
        "pass": {
            "p99": worst < P99_MS_LT,
            "index_memory": used["index_to_record_hash_ratio"] <= INDEX_RATIO_LTE,
            "valid": True,
        },
        "settings": {
            "gunicorn": " ".join(settings.args()),
            "messages": args.messages,
            "sessions": args.sessions,
            "vocabulary": args.vocabulary,
            "queries": args.queries,
            "seed": args.seed,
        },
        "machine": machine_info(),
    }


def markdown(result: dict[str, Any]) -> str:
    lat, mem, ok, s, m = (result[k] for k in ("latency", "memory", "pass", "settings", "machine"))
    verdict = {True: "pass", False: "**FAIL**"}
    rows = [
        (
            name,
            lat[name]["p50_ms"],
            lat[name]["p99_ms"],
            lat[name]["max_ms"],
            lat[name].get("median_total_hits", ""),
        )
        for name in ("1-word", "2-word", "baseline")
    ]
    return "\n".join(
        [
            f"Latest run: {m['date']}, {m['cores']} cores (load average {m['loadavg']}), "
            f"Python {m['python']}.",
            f"`gunicorn {s['gunicorn']}`; {s['messages']:,} messages in {s['sessions']} sessions, texts "
            f"from a Zipf-like vocabulary of {s['vocabulary']:,} words; {s['queries']} queries of each kind "
            f"(words by frequency, half cut to a prefix), interleaved with `GET {BASELINE_PATH}` on one "
            "keep-alive connection, every session searched (an admin key).",
            "",
            f"- p99: one word **{lat['1-word']['p99_ms']:g} ms**, two words "
            f"**{lat['2-word']['p99_ms']:g} ms** (target < {P99_MS_LT:g} ms): {verdict[ok['p99']]}",
            f"- index memory: **{mem['index_bytes_per_message']:g} B** per message, "
            f"**{mem['index_to_record_hash_ratio']:g}x** the record hash "
            f"({mem['record_hash_bytes_per_message']:g} B) "
            f"(target ≤ {INDEX_RATIO_LTE:g}x): {verdict[ok['index_memory']]}; "
            f"{mem['index_to_records_with_indexes_ratio']:g}x the records with their other indexes "
            f"({mem['records_with_their_other_indexes_bytes_per_message']:g} B per message)",
            f"- loading through `MessageRepository.create` (records and postings): "
            f"{result['load']['per_second']:,} messages/s",
            "",
            "| request | p50 (ms) | p99 (ms) | max (ms) | median total hits |",
            "| --- | ---: | ---: | ---: | ---: |",
            *(f"| {name} | {p50:g} | {p99:g} | {top:g} | {hits} |" for name, p50, p99, top, hits in rows),
            "",
            "```",
            ".venv/bin/python -m bench.search --record",
            "```",
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--record", action="store_true", help="rewrite this benchmark's section of BENCHMARKS.md")
    add("--strict", action="store_true", help="exit 2 when a target is missed")
    add("--messages", type=int, default=200_000, help="stored messages [200000]")
    add("--sessions", type=int, default=20, help="sessions they are spread over [20]")
    add("--vocabulary", type=int, default=20_000, help="distinct words [20000]")
    add("--queries", type=int, default=300, help="measured queries of each kind [300]")
    add("--warmup", type=int, default=20, help="unmeasured queries of each kind first [20]")
    add("--seed", type=int, default=18, help="random seed (texts and queries) [18]")
    add("--worker-class", default="gevent", help="gunicorn worker class [gevent, as openwa api]")
    add("--workers", type=int, default=4, help="gunicorn workers [4]")
    add("--threads", type=int, default=4, help="gunicorn threads per worker [4]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return conclude(
        "search",
        parse_args(argv),
        run,
        record=lambda result: record_section(KEY, TITLE, markdown(result)),
        targets_met=lambda result: bool(result["pass"]["p99"] and result["pass"]["index_memory"]),
        missed_exit=2,  # as documented above
    )


if __name__ == "__main__":
    sys.exit(main())
