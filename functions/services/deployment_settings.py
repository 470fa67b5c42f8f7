"""`GET /api/settings`: the deployment's settings as upstream OpenWA reports them (`{general, api,
notifications}`), derived from the environment. Read-only: every value is read at boot, so a runtime write
could not take effect. No secret is ever part of the view."""

from __future__ import annotations

from typing import Any

from limits import parse_many

from functions.config import Settings


def api_base_url(settings: Settings) -> str:
    """BASE_URL when set, else where the API listens."""
    return settings.base_url or f"http://{settings.bind_host}:{settings.port}"


def key_rate_limit(settings: Settings) -> tuple[int, int]:
    """The per-key budget's widest window as `(requests, window in ms)`, upstream's `rateLimit` and
    `rateLimitWindow`; `(0, 0)` when rate limiting is off."""
    if not settings.rate_limit_enabled:
        return 0, 0
    widest = max(parse_many(settings.rate_limit_key), key=lambda item: item.get_expiry())
    return widest.amount, widest.get_expiry() * 1000


def deployment_settings(settings: Settings) -> dict[str, Any]:
    """Upstream's `Settings` shape. `autoReconnect` is always true: sessions reconnect on their own, bounded
    per session by `maxReconnectAttempts`; there is no deployment-wide switch. We send no e-mail."""
    rate_limit, window_ms = key_rate_limit(settings)
    return {
        "general": {
            "apiBaseUrl": api_base_url(settings),
            "autoReconnect": True,
            "debugMode": settings.log_level == "debug",
        },
        "api": {
            "rateLimit": rate_limit,
            "rateLimitWindow": window_ms,
            "enableDocs": settings.enable_swagger,
        },
        "notifications": {"emailEnabled": False, "notificationEmail": "", "webhookAlerts": True},
    }
