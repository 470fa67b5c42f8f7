"""The received-story store on a real Redis (`functions.state.stories`): a story lives exactly as long as
WhatsApp shows it, once, and goes with its session."""

from __future__ import annotations

import time
from typing import Any

from redis import Redis

from functions.state.keys import Keys
from functions.state.session_data import purge_session
from functions.state.stories import StoryRepository

SESSION = "3f1c2b9e-0000-4000-8000-000000000001"
BOB, CAROL = "15550002222@c.us", "15550003333@c.us"


def story(status_id: str, poster: str, lives_ms: int) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {
        "id": status_id,
        "contact": {"id": poster, "name": None, "pushName": "Bob"},
        "type": "text",
        "caption": "hi",
        "postedAt": now,
        "expiresAt": now + lives_ms,
    }


def test_a_story_is_kept_until_it_expires_and_then_gone_from_redis(redis_conn: Redis) -> None:
    keys = Keys("owa-test-stories")
    repo = StoryRepository(redis_conn, keys)
    short = story("false_status@broadcast_AAAA000001_" + BOB, BOB, 1200)
    long = story("false_status@broadcast_AAAA000002_" + CAROL, CAROL, 24 * 3600 * 1000)
    assert repo.add(SESSION, short) is True
    assert repo.add(SESSION, long) is True
    assert repo.add(SESSION, short) is False  # announced again after a reload: stored once
    assert [s["id"] for s in repo.live(SESSION)] == [short["id"], long["id"]]
    assert [s["id"] for s in repo.live(SESSION, CAROL)] == [long["id"]]
    # The record's own TTL is the story's remaining life, so Redis drops it even if nobody reads.
    assert 0 < redis_conn.pttl(keys.story(SESSION, short["id"])) <= 1200
    assert 24 * 3600 * 1000 - 5000 < redis_conn.pttl(keys.story(SESSION, long["id"])) <= 24 * 3600 * 1000

    time.sleep(1.5)
    assert repo.get(SESSION, short["id"]) is None
    assert redis_conn.exists(keys.story(SESSION, short["id"])) == 0
    assert [s["id"] for s in repo.live(SESSION)] == [long["id"]]
    assert redis_conn.zcard(keys.session_stories(SESSION)) == 1  # the index is trimmed on read


def test_an_expired_story_is_not_stored_and_a_purged_session_takes_its_stories(redis_conn: Redis) -> None:
    keys = Keys("owa-test-stories")
    repo = StoryRepository(redis_conn, keys)
    assert repo.add(SESSION, story("false_status@broadcast_AAAA000003_" + BOB, BOB, -1)) is False
    assert repo.live(SESSION) == []
    repo.add(SESSION, story("false_status@broadcast_AAAA000004_" + BOB, BOB, 60_000))
    purge_session(redis_conn, keys, SESSION)
    assert repo.live(SESSION) == []
    assert list(redis_conn.scan_iter(match=f"{keys.prefix}:*{SESSION}*")) == []
