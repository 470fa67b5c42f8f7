"""A stopping API process ends its event streams at once. gunicorn's graceful stop (SIGTERM) waits up to
`graceful_timeout` for open requests, and an event stream (`/api/events`) never ends by itself: with one
dashboard tab open, Ctrl-C on `openwa up` took the whole 10 s. Installed by gunicorn's `post_worker_init`."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from flask import Flask

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def end_streams_on_stop(app: Flask) -> None:
    """Chain a handler before the worker's own for each stop signal: it closes the process's event hub (if
    any stream ever opened it), then the worker stops as it would have."""
    for signum in STOP_SIGNALS:
        previous = signal.getsignal(signum)

        def handler(number: int, frame: FrameType | None, previous: Any = previous) -> None:
            wired = app.extensions.get("openwa")
            hub = wired.__dict__.get("event_hub") if wired is not None else None  # never built here
            if hub is not None:
                hub.close()
            if callable(previous):
                previous(number, frame)

        signal.signal(signum, handler)
