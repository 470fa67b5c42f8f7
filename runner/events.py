"""The one place session processes publish OpenWA events (stream + webhook deliveries)."""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis

from functions.config import Settings
from functions.core.errors import DomainError
from functions.webhooks.dispatch import publish_event

log = logging.getLogger(__name__)


def emit_event(conn: Redis, settings: Settings, session_id: str, event: str, data: dict[str, Any]) -> None:
    """Publish `event` for the session. A failure is logged, not raised: the session must keep running when
    the event pipeline is briefly unavailable (the status itself is already in the session record)."""
    try:
        publish_event(conn, settings, session_id, event, data)
    except DomainError:
        log.exception("cannot publish %s for session %s", event, session_id)
