"""Structured logging (structlog): JSON lines by default, each carrying the request id when there is one."""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog

_URL_LOGGERS = ("httpx", "httpcore")
# RQ narrates its routine at info: every job's start, result and TTL, its channel subscription, and a
# "cleaning registries" line per queue at each maintenance pass. At LOG_LEVEL=info only its warnings and
# errors pass; LOG_LEVEL=debug shows it all.
_CHATTY_LOGGERS = ("rq.worker", "rq.scheduler", "rq.queue", "rq.job")


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written: loggers are cached on first use, and one cached
    with the stream of its day would write to a closed file once something replaced it (a test's capture,
    a process that redirected its stderr)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Configure structlog and the stdlib root logger once per process (idempotent)."""
    numeric = logging.getLevelNamesMapping()[level.upper()]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    # httpx logs every request's full URL at info, query string included: media URLs carry signed tokens.
    # Its warnings and errors still pass; our own code logs what it fetched, redacted, when it matters.
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    chatty_level = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty_level)
    _formatter[:] = [handler.formatter] if handler.formatter else []


_formatter: list[logging.Formatter] = []


def adopt(logger: logging.Logger) -> None:
    """Make a library's own logger (gunicorn's) write in our format: its handlers get the formatter
    `configure_logging` installed. Call after `configure_logging`."""
    for handler in logger.handlers:
        if _formatter:
            handler.setFormatter(_formatter[0])


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
