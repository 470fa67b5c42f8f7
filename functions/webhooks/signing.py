"""Delivery headers and signatures (DESIGN §1.3).

- `X-OpenWA-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes
  exactly as given (what the OpenWA SDK's `verify_webhook_signature` checks).
- Standard Webhooks: `webhook-id` (the idempotency key, stable across retries), `webhook-timestamp` (this
  attempt, Unix seconds) and `webhook-signature: v1,<base64 HMAC of "id.timestamp.body">`, keyed with the same
  bytes, except that a `whsec_<base64>` secret is keyed with its decoded bytes, as that spec does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

USER_AGENT = "OpenWA-Webhook/1.0.0"
WHSEC_PREFIX = "whsec_"
# Names a customer header may not set (compared lowercased): ours win, theirs are dropped.
RESERVED_HEADERS = frozenset(
    {"content-type", "content-length", "host", "user-agent", "transfer-encoding", "connection"}
)
RESERVED_PREFIXES = ("x-openwa-", "webhook-")


def openwa_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks HMAC key: a `whsec_` secret's decoded bytes, else the UTF-8 bytes."""
    if secret.startswith(WHSEC_PREFIX):
        try:
            return base64.b64decode(secret[len(WHSEC_PREFIX) :] + "==")
        except (binascii.Error, ValueError):
            pass  # not base64 after all: fall back to the bytes as given, like the OpenWA signature
    return secret.encode("utf-8")


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def is_reserved_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_PREFIXES)


def delivery_headers(
    *,
    body: bytes,
    event: str,
    idempotency_key: str,
    delivery_id: str,
    retry_count: int,
    timestamp: int,
    secret: str | None,
    custom: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every header of one attempt. Customer headers come first and never override ours."""
    headers = {name: value for name, value in (custom or {}).items() if not is_reserved_header(name)}
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-OpenWA-Event": event,
            "X-OpenWA-Idempotency-Key": idempotency_key,
            "X-OpenWA-Delivery-Id": delivery_id,
            "X-OpenWA-Retry-Count": str(retry_count),
            "webhook-id": idempotency_key,
            "webhook-timestamp": str(timestamp),
        }
    )
    if secret:
        headers["X-OpenWA-Signature"] = openwa_signature(secret, body)
        headers["webhook-signature"] = standard_signature(secret, idempotency_key, timestamp, body)
    return headers
