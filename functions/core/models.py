"""Domain records. Plain dataclasses; the state layer persists them, schemas render them."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.core.enums import DesiredState, Role, SessionStatus

DEFAULT_RECONNECT_BASE_DELAY_MS = 5000


@dataclass(frozen=True)
class SessionConfig:
    """The tunables OpenWA honours (`reference/openwa.md` §3.2). None attempts means unlimited."""

    max_reconnect_attempts: int | None = None
    reconnect_base_delay: int = DEFAULT_RECONNECT_BASE_DELAY_MS
    auto_reject_calls: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {
            "autoRejectCalls": self.auto_reject_calls,
            "maxReconnectAttempts": self.max_reconnect_attempts,
            "reconnectBaseDelay": self.reconnect_base_delay,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any] | None) -> SessionConfig:
        data = data or {}
        base_delay = data.get("reconnectBaseDelay")
        return cls(
            max_reconnect_attempts=data.get("maxReconnectAttempts"),
            reconnect_base_delay=DEFAULT_RECONNECT_BASE_DELAY_MS if base_delay is None else int(base_delay),
            auto_reject_calls=bool(data.get("autoRejectCalls", False)),
        )


@dataclass(frozen=True, eq=False)
class Session:
    """A WhatsApp session: what the operator wants (`desired_state`) and what the runner reports.

    Immutable (change it through `SessionRepository.update`), so a parsed record can be shared and
    memoised; identity-hashed, since `restriction` is a dict.
    """

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    status: SessionStatus = SessionStatus.CREATED
    desired_state: DesiredState = DesiredState.STOPPED
    config: SessionConfig = field(default_factory=SessionConfig)
    phone: str | None = None
    push_name: str | None = None
    connected_at: datetime | None = None
    last_active_at: datetime | None = None
    last_error: str | None = None
    restriction: dict[str, Any] | None = None
    proxy_url_encrypted: str | None = None
    proxy_type: str | None = None
    qr: str | None = None
    qr_updated_at: datetime | None = None
    # Bumped by restart / force-kill so a runner can tell a new request from one it already handled.
    restart_generation: int = 0
    kill_generation: int = 0


@dataclass(frozen=True, eq=False)
class ApiKey:
    """An API key record; only the hash of the secret is kept (`key_hash`). Immutable: change it with
    `dataclasses.replace` and save the copy, so parsed records can be shared and memoised."""

    id: str
    name: str
    key_hash: str
    key_prefix: str
    role: Role
    created_at: datetime
    updated_at: datetime
    allowed_ips: list[str] | None = None
    allowed_sessions: list[str] | None = None
    is_active: bool = True
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    usage_count: int = 0

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def is_usable(self, now: datetime) -> bool:
        return self.is_active and not self.is_expired(now)

    def is_scoped(self) -> bool:
        return bool(self.allowed_sessions)

    def allows_ip(self, ip: str | None) -> bool:
        """No list means any address; a non-empty list fails closed (unparseable address refused)."""
        if not self.allowed_ips:
            return True
        if not ip:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in self.allowed_ips)

    def allows_session(self, session_id: str) -> bool:
        return not self.allowed_sessions or session_id in self.allowed_sessions


@dataclass
class Webhook:
    """A webhook subscription (configuration only; delivery lives in `functions.webhooks`)."""

    id: str
    session_id: str
    url: str
    created_at: datetime
    updated_at: datetime
    events: list[str] = field(default_factory=lambda: ["message.received"])
    secret_encrypted: str | None = None
    headers_encrypted: str | None = None
    filters: dict[str, Any] | None = None
    retry_count: int = 3
    active: bool = True
    last_triggered_at: datetime | None = None


@dataclass
class AuditEntry:
    """One audit record (OpenWA's `audit_logs`)."""

    action: str
    severity: str = "info"
    api_key_id: str | None = None
    api_key_name: str | None = None
    session_id: str | None = None
    session_name: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    method: str | None = None
    path: str | None = None
    status_code: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    error_message: str | None = None
    id: str | None = None
    created_at: datetime | None = None
