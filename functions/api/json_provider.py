"""Flask's JSON provider on orjson (response bodies are most of a list route's CPU), and the strict
parser every request body goes through (`load_request_body`, used by the arguments parser).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from flask import Response, current_app
from flask.json.provider import DefaultJSONProvider

from functions.core.errors import DomainError

# Non-string keys: marshmallow reports a list item's errors under its integer index.
_OPTIONS = orjson.OPT_NON_STR_KEYS

# Deeper than any body of ours (filters are 4 levels), far below what the serialiser can write back (orjson
# refuses more than 254 levels), so nothing accepted here can fail later when it is stored or echoed.
MAX_BODY_DEPTH = 32


class InvalidJson(ValueError):
    """Not JSON, or JSON beyond what a body may hold; the arguments parser answers it as a validation error
    of the body (400 VALIDATION_ERROR, the reason under `details.fields.body`), as for any malformed body."""


class InvalidUnicode(DomainError):
    """A body that is not UTF-8, or whose strings hold a lone surrogate (`"\\ud800"`): a Python str can
    carry one, but no store, log line or response can encode it, so it would fail wherever it went next."""

    status, code, default_message = 400, "INVALID_UNICODE", "Request body is not valid Unicode"


def load_request_body(body: bytes) -> Any:
    """Parse a request body strictly: RFC 8259 JSON in UTF-8 with valid Unicode strings, numbers a float
    can hold (orjson reads an integer over 64 bits as a float, and refuses one that overflows it), at most
    MAX_BODY_DEPTH levels of nesting. Raises InvalidUnicode (a 400 of its own) or InvalidJson."""
    try:
        body.decode("utf-8")  # strict: also refuses surrogates encoded as bytes
    except UnicodeDecodeError as exc:
        raise InvalidUnicode(details={"position": exc.start}) from exc
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson names the surrogate problem in its message; everything else is a syntax or number error.
        if "surrogate" in exc.msg:
            raise InvalidUnicode(details={"position": exc.pos}) from exc
        raise InvalidJson(f"Invalid JSON body: {exc.msg} (at character {exc.pos})") from exc
    # A body cannot nest deeper than it has brackets: counting them spares the walk for nearly every body.
    if body.count(b"[") + body.count(b"{") > MAX_BODY_DEPTH and _depth_exceeds(value, MAX_BODY_DEPTH):
        raise InvalidJson(f"Invalid JSON body: nested deeper than {MAX_BODY_DEPTH} levels")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` has containers nested more than `limit` deep (iterative: no recursion limit)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class OrjsonProvider(DefaultJSONProvider):
    """Same behaviour as Flask's default (insertion order, UTF-8), serialised by orjson."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """`jsonify`: the same bytes as Flask's (compact JSON, then a newline), made by orjson in one step
        instead of bytes -> str -> str + newline -> bytes (a list page is ~8 KB; ~8 us a response)."""
        return json_response(json_body(self._prepare_response_obj(args, kwargs), self.default))


def json_body(obj: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """The body `jsonify(obj)` sends (compact JSON, then a newline)."""
    return orjson.dumps(obj, default=default, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE)


def json_response(body: bytes) -> Response:
    """A response carrying an already serialised `json_body`, as `jsonify` makes it."""
    return current_app.response_class(body, mimetype=OrjsonProvider.mimetype)
