"""Records as Redis hashes: every field holds one JSON value, so partial updates stay atomic per field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def encode_fields(fields: Mapping[str, Any]) -> dict[Any, Any]:
    return {name: json.dumps(value, separators=(",", ":")) for name, value in fields.items()}


def decode_fields(raw: Mapping[Any, Any]) -> dict[str, Any]:
    return {text(name): json.loads(value) for name, value in raw.items()}


def text(value: Any) -> str:
    """A Redis reply (bytes, as our clients do not decode) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)
