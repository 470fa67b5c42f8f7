"""Rate limits (flask-limiter on Redis): one budget per client IP and one per presented API key,
each shared across all routes. Health probes and the docs are exempt, as upstream.

A key's budget is named by an HMAC of the key under a subkey of ENCRYPTION_KEY, never by a plain hash: the
name is stored in Redis and logged by flask-limiter on a breach, and without API_KEY_PEPPER the stored hash
of a key is its SHA-256 (so a plain digest would be a prefix of the stored hash, and an offline guessing aid
for a chosen master key). Every process with the same ENCRYPTION_KEY names a key's budget alike."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import Flask, request
from flask_limiter import ApplicationLimit, Limiter

from functions.api.auth import presented_key
from functions.api.client_ip import client_ip
from functions.api.wiring import services
from functions.config import Settings

_EXEMPT_PREFIXES = ("/api/health", "/api/docs", "/api/openapi.json")


def _exempt() -> bool:
    return request.path.startswith(_EXEMPT_PREFIXES) or request.method == "OPTIONS"


_LIMITER_PURPOSE = b"openwa rate-limit key names"


def _key_digest_function() -> Callable[[], str]:
    """The key function of the per-key budget: HMAC-SHA256 of the presented key, first 32 hex digits. The
    subkey is made when the first keyed request comes (from the app's envelope), then kept."""
    secret: list[bytes] = []

    def digest() -> str:
        if not secret:
            secret.append(services().envelope.derive_keys(_LIMITER_PURPOSE)[0])
        return hmac.new(secret[0], (presented_key() or "").encode(), hashlib.sha256).hexdigest()[:32]

    return digest


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
                key_function=_key_digest_function(),
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
