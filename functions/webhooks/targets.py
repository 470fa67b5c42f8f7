"""Webhook URLs through the SSRF guard (`functions.net.ssrf`), with the webhook error codes OpenWA clients
see: one place for registration (the service) and delivery (`delivery.send_attempt`)."""

from __future__ import annotations

from functions.config import Settings
from functions.core.errors import DomainError
from functions.net.ssrf import InvalidTargetUrl, PinnedTarget, TargetRefused, TargetUnresolvable, pin


class InvalidWebhookUrl(DomainError):
    status, code, default_message = (
        400,
        "INVALID_WEBHOOK_URL",
        "Webhook URL must be http(s) without credentials",
    )


class WebhookUrlRefused(DomainError):
    """The URL points (or resolves) at a private, loopback, link-local or otherwise internal address."""

    status, code = 400, "WEBHOOK_URL_REFUSED"
    default_message = (
        "Webhook URL targets a non-public address; to allow it, add its host to SSRF_ALLOWED_HOSTS"
    )


class WebhookUrlUnresolvable(DomainError):
    status, code, default_message = 400, "WEBHOOK_URL_UNRESOLVABLE", "Webhook URL host cannot be resolved"


_TRANSLATED: dict[type[DomainError], type[DomainError]] = {
    InvalidTargetUrl: InvalidWebhookUrl,
    TargetRefused: WebhookUrlRefused,
    TargetUnresolvable: WebhookUrlUnresolvable,
}


def pin_webhook_url(url: str, settings: Settings) -> PinnedTarget:
    """`pin` with the webhook settings (WEBHOOK_SSRF_PROTECT, SSRF_ALLOWED_HOSTS, SSRF_HOST_OVERRIDES).
    Raises InvalidWebhookUrl, WebhookUrlRefused or WebhookUrlUnresolvable (400 each)."""
    try:
        return pin(
            url,
            protect=settings.webhook_ssrf_protect,
            allowed=settings.ssrf_allowed_hosts,
            overrides=settings.ssrf_host_map,
        )
    except (InvalidTargetUrl, TargetRefused, TargetUnresolvable) as exc:
        translated = _TRANSLATED[type(exc)]
        message = None if exc.message == exc.default_message else f"Webhook {exc.message}"
        raise translated(message, details=exc.details) from exc
