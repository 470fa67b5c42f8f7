"""Enumerations shared by the API, state and runner."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class SessionStatus(StrEnum):
    """OpenWA session statuses, lowercase on the wire (`reference/openwa.md` §3.3)."""

    CREATED = "created"
    INITIALIZING = "initializing"
    QR_READY = "qr_ready"
    AUTHENTICATING = "authenticating"
    READY = "ready"
    DISCONNECTED = "disconnected"
    ACTION_REQUIRED = "action_required"
    FAILED = "failed"


class DesiredState(StrEnum):
    """What the operator asked for; runners converge the actual status towards it."""

    RUNNING = "running"
    STOPPED = "stopped"


class Role(IntEnum):
    """API key roles, ranked: a route's role is a minimum."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Role:
        return cls[value.upper()]
