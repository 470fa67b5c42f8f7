"""Time helpers: entity timestamps are ISO-8601 UTC with milliseconds and a `Z`, as upstream."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """Render an aware datetime as `2026-11-25T10:00:00.000Z`; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str | None) -> datetime | None:
    """Parse what `iso` writes (and any ISO-8601 with an offset); naive input is taken as UTC."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)  # Python 3.11 reads the trailing Z itself
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
