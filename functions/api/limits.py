"""Rate limits (flask-limiter on Redis): one budget per client IP and one per presented API key,
each shared across all routes. Health probes and the docs are exempt, as upstream."""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_limiter import ApplicationLimit, Limiter

from functions.api.auth import presented_key
from functions.api.client_ip import client_ip
from functions.config import Settings

_EXEMPT_PREFIXES = ("/api/health", "/api/docs", "/api/openapi.json")


def _exempt() -> bool:
    return request.path.startswith(_EXEMPT_PREFIXES) or request.method == "OPTIONS"


def _key_digest() -> str:
    """A digest of the presented key: the budget is per key without keeping key material in Redis."""
    return hashlib.sha256((presented_key() or "").encode()).hexdigest()[:32]


def install_rate_limits(app: Flask, settings: Settings) -> Limiter | None:
    if not settings.rate_limit_enabled:
        return None
    proxies = tuple(settings.trusted_proxies)
    limiter = Limiter(
        key_func=lambda: client_ip(proxies),
        application_limits=[
            ApplicationLimit(settings.rate_limit_ip, scope="ip", exempt_when=_exempt),
            ApplicationLimit(
                settings.rate_limit_key,
                key_function=_key_digest,
                scope="key",
                exempt_when=lambda: _exempt() or presented_key() is None,
            ),
        ],
        storage_uri=settings.redis_url,
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2},
        strategy="moving-window",
        key_prefix=f"{settings.redis_prefix}:limits",
        headers_enabled=True,
        # Fail open: a Redis hiccup must not turn every request into a 500 (upstream does the same).
        swallow_errors=True,
    )
    limiter.init_app(app)
    app.extensions["openwa_limiter"] = limiter
    return limiter
