"""The job that removes what a deleted session leaves behind (queue `default`; `SESSION_PURGE_JOB`).

`DELETE /api/sessions/{id}` removes the record, its webhooks, queued jobs and stored credentials at once,
and enqueues this job twice: now, and again `SESSION_PURGE_AGAIN_SECONDS` later, for what the session's
process wrote between the delete and its runner stopping it (a message that arrived meanwhile). It removes
every Redis key named after the session (message records and indexes, holds, idempotency answers, pacing,
batches, events) and its media in storage.
"""

from __future__ import annotations

from functions.config import get_settings
from functions.state.connection import redis_from_settings
from functions.state.keys import Keys
from functions.state.session_data import purge_session
from functions.storage import build_storage


def purge(session_id: str) -> dict[str, int]:
    """Remove the deleted session's Redis keys and media; `{keys, media}` counts. Idempotent."""
    settings = get_settings()
    conn = redis_from_settings(settings)
    try:
        removed = purge_session(conn, Keys(settings.redis_prefix), session_id)
    finally:
        conn.close()
    media = build_storage(settings).delete_prefix(f"media/{session_id}/")
    return {"keys": removed, "media": media}
