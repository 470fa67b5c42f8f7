"""Everything Redis holds about one session, found by name, for removing it when the session is deleted.

Every per-session key carries the session id as one `:`-separated segment (`<p>:message:<sid>:<id>`,
`<p>:session:<sid>:holds`, `<p>:idempotency:<sid>:<digest>`...), so one SCAN over `<p>:*<sid>*` finds them
all, new kinds of record included, without a list here to keep in step with `Keys`. Session ids are UUIDs:
no glob characters, and no chance of matching another session's keys.
"""

from __future__ import annotations

from redis import Redis

from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

_BATCH = 500


def session_keys(conn: Redis, keys: Keys, session_id: str) -> list[str]:
    """The keys named after `session_id` (the session record itself included, if it still exists)."""
    with translate_redis_errors():
        found = conn.scan_iter(match=f"{keys.prefix}:*{session_id}*", count=1000)
        return [name for name in map(text, found) if session_id in name.split(":")]


def purge_session(conn: Redis, keys: Keys, session_id: str) -> int:
    """UNLINK every key of `session_id`; returns how many there were. Idempotent."""
    names = session_keys(conn, keys, session_id)
    with translate_redis_errors():
        for start in range(0, len(names), _BATCH):
            conn.unlink(*names[start : start + _BATCH])
    return len(names)
