"""One access log line per request, in the process's log format (`functions.log`), carrying the request id
every other line of the request carries: `http_request` with method, path (never the query string: media
and storage URLs carry signed tokens there), status and milliseconds to the response's headers (an event
stream is logged when it opens). ACCESS_LOG=false turns it off; it is at info (health probes at debug), so
LOG_LEVEL=warning hides it too."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from functions.log import get_logger

log = get_logger("openwa.access")
_PROBES = "/api/health/"


def _started() -> None:
    g.access_started = time.perf_counter()


def _logged(response: Response) -> Response:
    started = g.get("access_started")
    elapsed = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    status, path = response.status_code, request.path
    # Health probes come every few seconds from orchestrators and `openwa up`: at debug, not at info.
    emit = log.debug if path.startswith(_PROBES) else log.info
    emit("http_request", method=request.method, path=path, status=status, durationMs=elapsed)
    return response


def install_access_log(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_logged)
