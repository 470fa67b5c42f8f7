"""Records as Redis hashes: every field holds one JSON value, so partial updates stay atomic per field.

Reading is strict (orjson): a field that is not JSON, or whose strings hold a lone surrogate (which
`json.dumps` writes as the escape `\\ud800` and older versions stored), raises CorruptRecord. Lists skip such
a record with a warning (`readable`), so one bad item never hides or blocks the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import orjson

from functions.core.errors import DomainError
from functions.log import get_logger

log = get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class CorruptRecord(DomainError):
    """A stored record that cannot be read back: not JSON, invalid Unicode, or fields of the wrong shape.
    A 500 (the request was fine; the state is not), with a code the operator can search the logs for."""

    status, code, default_message = 500, "RECORD_UNREADABLE", "A stored record cannot be read"


def encode_fields(fields: Mapping[str, Any]) -> dict[Any, Any]:
    return {name: json.dumps(value, separators=(",", ":")) for name, value in fields.items()}


def decode_fields(raw: Mapping[Any, Any]) -> dict[str, Any]:
    """The hash's fields as values; CorruptRecord if any is not valid JSON with valid Unicode."""
    try:
        return {text(name): orjson.loads(value) for name, value in raw.items()}
    except orjson.JSONDecodeError as exc:
        raise CorruptRecord(details={"reason": exc.msg}) from exc


def load_record(loader: Callable[[R], T], raw: R, kind: str, record_id: str) -> T:
    """`loader(raw)`, any failure to build the record from what is stored raised as CorruptRecord (its
    details name the record, never its content)."""
    try:
        return loader(raw)
    except CorruptRecord as exc:
        raise CorruptRecord(details={"kind": kind, "id": record_id, **exc.details}) from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # missing, extra or mistyped fields
        raise CorruptRecord(details={"kind": kind, "id": record_id, "reason": type(exc).__name__}) from exc


def readable(loader: Callable[[R], T], rows: Iterable[tuple[str, R]], kind: str) -> list[T]:
    """Load each `(id, raw)` row, skipping (and logging once per call) those that cannot be read."""
    loaded: list[T] = []
    for record_id, raw in rows:
        try:
            loaded.append(load_record(loader, raw, kind, record_id))
        except CorruptRecord as exc:
            log.warning("stored_record_unreadable", **exc.details)
    return loaded


def text(value: Any) -> str:
    """A Redis reply (bytes, as our clients do not decode) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)
