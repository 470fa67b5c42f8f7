"""The search index's query strategies agree (`functions.state.message_search_query`): the exact count (the
largest postings intersected, plus what the smaller ones add) matches reading every record, walking the
smallest set once the count is complete finds the same newest hits, a walk that gives way to the exact
path answers the same, and the count stops at its bound without losing the newest hits. Real Redis,
records written by `MessageRepository` as the inbox writes them."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from redis import Redis

from functions.config import Settings
from functions.core.search_text import tokens
from functions.state.keys import Keys
from functions.state.message_search_query import MessageSearchIndex, SearchFilters, SessionHits
from functions.state.messages import MessageRepository

SESSIONS = ("s-one", "s-two", "s-three")
CHATS = ("15550001111@c.us", "15550002222@c.us", "120363000000000001@g.us")
WORDS = ("plan", "planet", "plans", "trip", "tripod", "lunch", "late", "later", "order", "ordered")


@pytest.fixture
def stored(redis_conn: Redis, settings: Settings) -> Keys:
    """300 messages over three sessions, texts from a skewed vocabulary, types and directions mixed."""
    keys = Keys(settings.redis_prefix)
    repo = MessageRepository(redis_conn, keys, retention_seconds=86_400)
    rng, now = random.Random(7), int(time.time())
    for n in range(300):
        text = " ".join(rng.choices(WORDS, weights=range(len(WORDS), 0, -1), k=rng.randint(1, 5)))
        chat = rng.choice(CHATS)
        repo.create_if_absent(
            {
                "id": f"m-{n:03d}",
                "sessionId": SESSIONS[n % 3],
                "chatId": chat,
                "from": chat if n % 2 else "15559990000@c.us",
                "body": text,
                "type": "image" if n % 7 == 0 else "text",
                "direction": "incoming" if n % 2 else "outgoing",
                "timestamp": now - 1000 + n,
            }
        )
    return keys


def _hits(answers: list[SessionHits], want: int) -> tuple[int, list[str]]:
    ranked = sorted(((score, hit) for answer in answers for hit, score in answer.newest), reverse=True)
    return sum(answer.total for answer in answers), [hit for _, hit in ranked[:want]]


QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("plan", {}),
    ("plan trip", {}),
    ("pla tri lun", {}),
    ("order", {"chat_id": CHATS[2]}),
    ("plan", {"sender": CHATS[0]}),
    ("trip", {"type": "image"}),
    ("late plan", {"direction": "incoming", "chat_id": CHATS[1]}),
    ("lunch", {"lowest": 0, "highest": 900}),  # `highest`: seconds before the test runs (made epoch ms below)
]


@pytest.mark.parametrize(("q", "filters"), QUERIES)
def test_every_strategy_finds_what_reading_every_record_finds(
    redis_conn: Redis, stored: Keys, q: str, filters: dict[str, Any]
) -> None:
    if "highest" in filters:  # relative to now, not to import time: the messages are stored at test time
        filters = {**filters, "highest": (int(time.time()) - filters["highest"]) * 1000}
    words, where = tokens(q), SearchFilters(**filters)
    exact = MessageSearchIndex(redis_conn, stored, bound=10**6)  # counts everything: never walks
    walking = MessageSearchIndex(redis_conn, stored, bound=0)  # nothing to count: walks for the hits
    giving_way = MessageSearchIndex(redis_conn, stored, bound=0, walk_limit=0)  # walks, falls back

    counted, newest = _hits(exact.query(SESSIONS, words, where, newest=15), 15)

    expected = _by_reading_every_record(redis_conn, stored, words, filters)
    assert counted == len(expected) > 0
    assert newest == expected[:15]
    assert _hits(walking.query(SESSIONS, words, where, newest=15), 15)[1] == newest
    at_least, found = _hits(giving_way.query(SESSIONS, words, where, newest=15), 15)
    assert found == newest
    assert at_least <= counted  # with nothing left to count, a count is only what was seen
    assert not list(redis_conn.scan_iter(match="*:tmp:*"))  # temporary sets never outlive the query


def _by_reading_every_record(
    redis_conn: Redis, keys: Keys, words: list[str], filters: dict[str, Any]
) -> list[str]:
    """The matching ids, newest first, found the slow way: every record read and checked."""
    repo = MessageRepository(redis_conn, keys, retention_seconds=86_400)
    found = []
    for session_id in SESSIONS:
        for record in repo.page(session_id, limit=1000).messages:
            own = tokens(record["body"])
            checks = [
                all(any(token.startswith(word) for token in own) for word in words),
                filters.get("chat_id") in (None, record["chatId"]),
                filters.get("sender") in (None, record["from"]),
                filters.get("type") in (None, record["type"]),
                filters.get("direction") in (None, record["direction"]),
                record["timestamp"] * 1000 <= filters.get("highest", 2**53),
            ]
            if all(checks):
                found.append((record["timestamp"], record["id"]))
    return [message_id for _, message_id in sorted(found, reverse=True)]


def test_the_count_stops_at_its_bound_but_the_newest_hits_are_all_there(
    redis_conn: Redis, stored: Keys
) -> None:
    exact = MessageSearchIndex(redis_conn, stored, bound=10**6)
    bounded = MessageSearchIndex(redis_conn, stored, bound=20)
    for q in ("plan trip", "pla lun"):
        words = tokens(q)
        full_total, full_hits = _hits(exact.query(SESSIONS, words, SearchFilters(), newest=10), 10)
        total, hits = _hits(bounded.query(SESSIONS, words, SearchFilters(), newest=10), 10)
        assert full_total > 20
        assert 20 <= total <= full_total
        assert hits == full_hits
