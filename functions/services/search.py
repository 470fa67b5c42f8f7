"""Message search (`GET /api/search`, upstream's search module with its built-in provider's answers): the
stored message records of the sessions the caller may see, within the retention, by word prefixes.

The index (`functions.state.message_search_query`) answers per session with its count and newest matches; they
are merged newest first across sessions and the page's records read in one round trip per session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from functions.core.search_text import snippet, tokens
from functions.state.message_search_query import TOTAL_BOUND, MessageSearchIndex, SearchFilters
from functions.state.messages import MessageRepository
from functions.state.sessions import SessionRepository

PROVIDER = "builtin-redis"


@dataclass(frozen=True)
class SearchQuery:
    """A validated query (`functions.schemas.search.SearchQuerySchema`); dates are epoch ms."""

    q: str
    limit: int = 20
    offset: int = 0
    chat_id: str | None = None
    direction: str | None = None
    type: str | None = None
    sender: str | None = None
    date_from: int | None = None
    date_to: int | None = None
    session_id: str | None = None


class SearchService:
    def __init__(
        self,
        sessions: SessionRepository,
        messages: MessageRepository,
        index: MessageSearchIndex,
        *,
        retention_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions, self._messages, self._index = sessions, messages, index
        self._retention_ms, self._clock = retention_seconds * 1000, clock

    def search(self, query: SearchQuery, *, only: Iterable[str] | None) -> dict[str, Any]:
        """Upstream's `SearchResults`: `{hits, total, tookMs, provider}`, hits newest first; `total` is
        exact up to `TOTAL_BOUND` (which then means "at least"). `only`: the session ids the caller may
        see (None: all)."""
        started = time.perf_counter()
        words = tokens(query.q)
        filters = self._filters(query)
        answers = self._index.query(
            self._sessions_for(query, only), words, filters, newest=query.offset + query.limit
        )
        ranked = sorted(
            (
                (score, answer.session_id, message_id)
                for answer in answers
                for message_id, score in answer.newest
            ),
            reverse=True,
        )[query.offset : query.offset + query.limit]
        hits = self._hits([(session_id, message_id) for _, session_id, message_id in ranked], words)
        return {
            "hits": hits,
            "total": min(sum(answer.total for answer in answers), TOTAL_BOUND),
            "tookMs": int((time.perf_counter() - started) * 1000),
            "provider": PROVIDER,
        }

    def _sessions_for(self, query: SearchQuery, only: Iterable[str] | None) -> list[str]:
        """The sessions searched: every session the caller may see, or the one asked for if it may."""
        visible = self._sessions.all_ids()
        if only is not None:
            allowed = set(only)
            visible = [session_id for session_id in visible if session_id in allowed]
        if query.session_id is not None:
            visible = [session_id for session_id in visible if session_id == query.session_id]
        return visible

    def _filters(self, query: SearchQuery) -> SearchFilters:
        """The query's filters; dates within the retention (older records are gone or going)."""
        oldest = int(self._clock() * 1000) - self._retention_ms
        return SearchFilters(
            type=query.type,
            direction=query.direction,
            chat_id=query.chat_id,
            sender=query.sender,
            lowest=max(oldest, query.date_from or 0),
            highest=query.date_to,
        )

    def _hits(self, found: list[tuple[str, str]], words: list[str]) -> list[dict[str, Any]]:
        """The records of `found` (`(session, message)` ids, in order) as upstream's `SearchHit`s, skipping
        any that expired meanwhile."""
        by_session: dict[str, list[str]] = {}
        for session_id, message_id in found:
            by_session.setdefault(session_id, []).append(message_id)
        records: dict[tuple[str, str], dict[str, Any]] = {}
        for session_id, ids in by_session.items():
            for message_id, record in zip(ids, self._messages.get_many(session_id, ids), strict=True):
                if record is not None:
                    records[(session_id, message_id)] = record
        return [_hit(records[key], words) for key in found if key in records]


def _hit(record: dict[str, Any], words: list[str]) -> dict[str, Any]:
    body = str(record.get("body") or "")
    return {
        "messageId": str(record["id"]),
        "waMessageId": str(record.get("waMessageId") or ""),
        "sessionId": str(record["sessionId"]),
        "chatId": str(record.get("chatId") or ""),
        "body": body,
        "snippet": snippet(body, words),
        "timestamp": int(record.get("timestamp") or 0),
        "type": str(record.get("type") or "unknown"),
        "direction": str(record.get("direction") or ""),
        "from": str(record.get("from") or ""),
    }
