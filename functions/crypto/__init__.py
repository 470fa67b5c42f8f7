"""Encryption at rest: AES-256-GCM envelopes with key ids, so keys can rotate."""

from __future__ import annotations

from functions.crypto.envelope import Envelope, envelope_from_settings

__all__ = ["Envelope", "envelope_from_settings"]
